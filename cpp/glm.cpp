// IRLS for generalized linear models, step by step as R 4.2.2's stats::glm.fit.
//
// Each iteration: working response z = (eta - offset) + (y - mu) / mu.eta(eta) and working
// weights W = w * mu.eta(eta)^2 / V(mu) on the "good" rows (w > 0, mu.eta != 0); the weighted
// least-squares step solves min || sqrt(W) (z - X b) || with LINPACK dqrdc2's limited pivoting
// (tol = min(1e-7, epsilon / 1000)); then eta = X b + offset, mu = g^{-1}(eta) and the deviance;
// non-finite deviance or invalid eta/mu halve the step towards the previous coefficients.
#include "glm.hpp"

#include <algorithm>
#include <atomic>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <thread>

#include "big_alloc.hpp"
#include "design_rows.hpp"
#include "qr.hpp"
#include "qr_kernels.hpp"
#include "qr_tall.hpp"

namespace rmodels {

namespace {

std::string fmt_int(const char* pattern, int a) {
  char buf[256];
  std::snprintf(buf, sizeof buf, pattern, a);
  return buf;
}

Eigen::VectorXd linkinv(const Family& f, const VecRef& eta) {
  Eigen::VectorXd mu = big_vector(eta.size());
  for (Eigen::Index i = 0; i < eta.size(); ++i) mu[i] = linkinv1(f, eta[i]);
  return mu;
}

// eta = X b + offset with the column-by-column accumulation of reference BLAS dgemv (zero
// coefficients skipped), then the offset added, as R's drop(x %*% start) + offset.
Eigen::VectorXd linear_predictor(const Eigen::Ref<const Eigen::MatrixXd>& X,
                                 const Eigen::VectorXd& beta, const VecRef& offset) {
  Eigen::VectorXd eta = big_vector(X.rows());
  eta.setZero();
  for (Eigen::Index j = 0; j < X.cols(); ++j)
    if (beta[j] != 0.0) eta.noalias() += beta[j] * X.col(j);
  eta += offset;
  return eta;
}

// ---- The Gram path of a weighted least-squares step ------------------------------------------
//
// For a tall design whose rows are mostly zeros (factor dummies), an IRLS step does not need the
// n x p Householder factor: only the coefficients of the step and, after the last step, R.  With
// the non-zeros of X stored once by rows (design_rows.hpp), each step accumulates
// G = [sW X  sW z]'[sW X  sW z] (sW = sqrt of the working weights) over the non-zeros
// (rows_gram: deterministic for any thread count) and hands it to qr_tall.hpp's
// tall_solve_gram: the normal-equations form of the QR step that lm's reconstruction path
// takes, under the same conditions (column-equilibrated condition number of R~ at most 1e4,
// dqrdc2's rule run on R~ moves no column), giving the coefficients and R's R factor with
// LINPACK's row signs.  Otherwise the step runs the ordinary path.

using LD = long double;
using MatL = kernels::Mat<LD>;

// The last results of a pure element-wise function of up to three doubles, for the passes whose
// arguments take few distinct values (the start, computed from the response; the null
// deviance's constant mean).  The function is skipped only for bit-identical arguments, so the
// values are exactly the function's.
class Memo {
 public:
  // f() of the arguments (x, y, z).
  template <typename F>
  double get(double x, double y, double z, F&& f) {
    Slot& sl = find(x, y, z);
    if (!sl.used) {
      sl.v = f();
      sl.used = true;
    }
    return sl.v;
  }
  // f(o1, o2) (two results) of the argument x.
  template <typename F>
  void get2(double x, double& o1, double& o2, F&& f) {
    Slot& sl = find(x, 0.0, 0.0);
    if (!sl.used) {
      f(sl.v, sl.v2);
      sl.used = true;
    }
    o1 = sl.v;
    o2 = sl.v2;
  }

 private:
  static std::uint64_t bits(double x) {
    std::uint64_t u;
    std::memcpy(&u, &x, sizeof u);
    return u;
  }
  struct Slot {
    std::uint64_t a = 0, b = 0, c = 0;
    double v = 0, v2 = 0;
    bool used = false;
  };
  // The slot for these arguments: reset (used = false) unless it holds them.
  Slot& find(double x, double y, double z) {
    const std::uint64_t a = bits(x), b = bits(y), c = bits(z);
    const std::uint64_t h =
        (a ^ (b * 0x9E3779B97F4A7C15ULL) ^ (c * 0xC2B2AE3D27D4EB4FULL)) * 0x94D049BB133111EBULL;
    Slot& sl = slot_[h >> 62];
    if (!(sl.used && sl.a == a && sl.b == b && sl.c == c)) sl = Slot{a, b, c, 0.0, 0.0, false};
    return sl;
  }
  Slot slot_[4];
};

// Number of good rows (weights > 0, mu.eta != 0), and their list with their sqrt weights.
Eigen::Index count_good(const Eigen::VectorXd& wt, const Eigen::VectorXd& me) {
  const Eigen::Index n = wt.size();
  std::vector<Eigen::Index> part((n + kRowChunk - 1) / kRowChunk, 0);
  for_tasks(n, kRowChunk, [&](Eigen::Index t, Eigen::Index b, Eigen::Index e) {
    Eigen::Index c = 0;
    for (Eigen::Index i = b; i < e; ++i) c += (wt[i] > 0) & (me[i] != 0);
    part[t] = c;
  });
  Eigen::Index total = 0;
  for (Eigen::Index c : part) total += c;
  return total;
}

void list_good(const Eigen::VectorXd& wt, const Eigen::VectorXd& me, const Eigen::VectorXd& sw,
               std::vector<Eigen::Index>& rows, Eigen::VectorXd& w) {
  rows.clear();
  for (Eigen::Index i = 0; i < wt.size(); ++i)
    if (wt[i] > 0 && me[i] != 0) rows.push_back(i);
  w.resize(static_cast<Eigen::Index>(rows.size()));
  for (std::size_t k = 0; k < rows.size(); ++k) w[static_cast<Eigen::Index>(k)] = sw[rows[k]];
}

// The working weights of rows [r0, r1) (glm.fit's w = sqrt(weights mu.eta^2 / V(mu)) and
// z w, z = eta - offset + (y - mu) / mu.eta) on the good rows (weights > 0, mu.eta != 0), 0
// elsewhere; flags as glm.fit's checks on the rows with weights > 0.  Branch-free so that the
// divisions and square roots vectorise; var is the family's variance function.
struct WorkFlags {
  int nan_var = 0, zero_var = 0, nan_mu_eta = 0, nonfinite = 0;
};

template <typename Var>
void working_rows(Var var, const double* __restrict eta, const double* __restrict mu,
                  const double* __restrict mu_eta, const double* __restrict y,
                  const double* __restrict wt, const double* __restrict off, double* __restrict sw,
                  double* __restrict zw, Eigen::Index r0, Eigen::Index r1, WorkFlags& fl) {
  // 64-bit flags, as wide as the doubles, so that the loop vectorises.
  long nv = 0, zv = 0, nm = 0, nf = 0;
  for (Eigen::Index i = r0; i < r1; ++i) {
    const double me = mu_eta[i], m = mu[i], v = var(m);
    const long pos = wt[i] > 0;
    const long good = pos & static_cast<long>(me != 0);
    nv |= pos & static_cast<long>(v != v);
    zv |= pos & static_cast<long>(v == 0);
    nm |= pos & static_cast<long>(me != me);
    const double z = (eta[i] - off[i]) + (y[i] - m) / me;
    const double w = std::sqrt((wt[i] * (me * me)) / v);
    const double zwi = z * w;
    const long finite =
        static_cast<long>(std::fabs(w) <= DBL_MAX) & static_cast<long>(std::fabs(zwi) <= DBL_MAX);
    nf |= good & (finite ^ 1);
    sw[i] = good ? w : 0.0;
    zw[i] = good ? zwi : 0.0;
  }
  fl.nan_var |= nv != 0;
  fl.zero_var |= zv != 0;
  fl.nan_mu_eta |= nm != 0;
  fl.nonfinite |= nf != 0;
}

// working_rows with the family's variance function fixed at compile time (same expressions as
// variance1).
inline void working_rows(const Family& f, const double* eta, const double* mu, const double* mu_eta,
                         const double* y, const double* wt, const double* off, double* sw,
                         double* zw, Eigen::Index r0, Eigen::Index r1, WorkFlags& fl) {
  switch (f.variance) {
    case VarianceKind::Binomial:
    case VarianceKind::QuasiBinomialVar:
      return working_rows([](double m) { return m * (1 - m); }, eta, mu, mu_eta, y, wt, off, sw, zw,
                          r0, r1, fl);
    case VarianceKind::Poisson:
    case VarianceKind::QuasiMu:
      return working_rows([](double m) { return m; }, eta, mu, mu_eta, y, wt, off, sw, zw, r0, r1,
                          fl);
    case VarianceKind::Gamma:
    case VarianceKind::QuasiMu2:
      return working_rows([](double m) { return m * m; }, eta, mu, mu_eta, y, wt, off, sw, zw, r0,
                          r1, fl);
    case VarianceKind::Gaussian:
      return working_rows([](double) { return 1.0; }, eta, mu, mu_eta, y, wt, off, sw, zw, r0, r1,
                          fl);
    default:
      return working_rows([&f](double m) { return variance1(f, m); }, eta, mu, mu_eta, y, wt, off,
                          sw, zw, r0, r1, fl);
  }
}

// eta = X b + offset (X's rows when given, else the dense columns), mu = g^{-1}(eta),
// mu_eta = d mu / d eta at eta and the deviance (unit deviances summed in order in long double, as
// deviance_sum), in one pass.
double update_fit(const SparseRows* sd, const Eigen::Ref<const Eigen::MatrixXd>& X,
                  const Eigen::VectorXd& beta, const VecRef& offset, const Family& f,
                  const Eigen::VectorXd& y, const Eigen::VectorXd& wt, Eigen::VectorXd& eta,
                  Eigen::VectorXd& mu, Eigen::VectorXd& mu_eta, Eigen::VectorXd& buf) {
  const Eigen::Index n = y.size();
  if (sd == nullptr)
    eta = linear_predictor(X, beta, offset);
  else
    resize_big(eta, n);
  resize_big(mu, n);
  resize_big(mu_eta, n);
  resize_big(buf, n);
  for_tasks(n, kRowChunk, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
    const SparseRows::Piece* pc = sd ? &sd->piece(b) : nullptr;  // a task is one piece
    for (Eigen::Index i = b; i < e; ++i) {
      if (pc) {
        double s = 0.0;
        const Eigen::Index li = i - b;
        for (std::uint32_t a = pc->start[li]; a < pc->start[li + 1]; ++a) {
          const double bj = beta[pc->index[a]];
          if (bj != 0.0) s += bj * pc->value[a];
        }
        eta[i] = s + offset[i];
      }
      link_pair(f, eta[i], mu[i], mu_eta[i]);
      buf[i] = dev_resid1(f, y[i], mu[i], wt[i]);
    }
  });
  long double s = 0;
  for (Eigen::Index i = 0; i < n; ++i) s += buf[i];
  return static_cast<double>(s);
}

// deviance_sum with the unit deviances computed by threads and summed in order (same bits);
// mu_at(i) is the fitted mean of row i.
// With memo, the unit deviances go through a Memo (for arguments with few distinct values).
template <typename MuAt>
double deviance_rows_by(const Family& f, const Eigen::VectorXd& y, MuAt mu_at,
                        const Eigen::VectorXd& wt, Eigen::VectorXd& buf, bool memo = false) {
  const Eigen::Index n = y.size();
  auto unit = [&](Memo& mm, Eigen::Index i) {
    const double mu = mu_at(i);
    return memo ? mm.get(y[i], mu, wt[i], [&] { return dev_resid1(f, y[i], mu, wt[i]); })
                : dev_resid1(f, y[i], mu, wt[i]);
  };
  long double s = 0;
  if (n < 2 * kRowChunk) {
    Memo mm;
    for (Eigen::Index i = 0; i < n; ++i) s += unit(mm, i);
    return static_cast<double>(s);
  }
  resize_big(buf, n);
  for_tasks(n, kRowChunk, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
    Memo mm;
    for (Eigen::Index i = b; i < e; ++i) buf[i] = unit(mm, i);
  });
  for (Eigen::Index i = 0; i < n; ++i) s += buf[i];
  return static_cast<double>(s);
}

double deviance_rows(const Family& f, const Eigen::VectorXd& y, const Eigen::VectorXd& mu,
                     const Eigen::VectorXd& wt, Eigen::VectorXd& buf) {
  return deviance_rows_by(f, y, [&mu](Eigen::Index i) { return mu[i]; }, wt, buf);
}

double deviance_rows_memo(const Family& f, const Eigen::VectorXd& y, const Eigen::VectorXd& mu,
                          const Eigen::VectorXd& wt, Eigen::VectorXd& buf) {
  return deviance_rows_by(f, y, [&mu](Eigen::Index i) { return mu[i]; }, wt, buf, true);
}

}  // namespace

Family make_family(const std::string& family, const std::string& link, double lambda,
                   const std::string& variance, double theta) {
  Family f;
  f.theta = theta;
  if (family == "gaussian") {
    f.family = FamilyKind::Gaussian;
    f.variance = VarianceKind::Gaussian;
  } else if (family == "binomial") {
    f.family = FamilyKind::Binomial;
    f.variance = VarianceKind::Binomial;
  } else if (family == "quasibinomial") {
    f.family = FamilyKind::QuasiBinomial;
    f.variance = VarianceKind::Binomial;
  } else if (family == "poisson") {
    f.family = FamilyKind::Poisson;
    f.variance = VarianceKind::Poisson;
  } else if (family == "quasipoisson") {
    f.family = FamilyKind::QuasiPoisson;
    f.variance = VarianceKind::Poisson;
  } else if (family == "Gamma") {
    f.family = FamilyKind::Gamma;
    f.variance = VarianceKind::Gamma;
  } else if (family == "inverse.gaussian") {
    f.family = FamilyKind::InverseGaussian;
    f.variance = VarianceKind::InverseGaussian;
  } else if (family == "negative.binomial") {
    f.family = FamilyKind::NegativeBinomial;
    f.variance = VarianceKind::NegativeBinomial;
    if (!(theta > 0)) throw GlmError("'theta' must be positive");
  } else if (family == "quasi") {
    f.family = FamilyKind::Quasi;
    if (variance == "constant")
      f.variance = VarianceKind::Gaussian;
    else if (variance == "mu(1-mu)")
      f.variance = VarianceKind::QuasiBinomialVar;
    else if (variance == "mu")
      f.variance = VarianceKind::QuasiMu;
    else if (variance == "mu^2")
      f.variance = VarianceKind::QuasiMu2;
    else if (variance == "mu^3")
      f.variance = VarianceKind::QuasiMu3;
    else
      throw GlmError("'variance' \"" + variance + "\" is invalid");
  } else {
    throw GlmError("family '" + family + "' not recognized");
  }
  f.link_name = link;
  if (link == "logit")
    f.link = LinkKind::Logit;
  else if (link == "probit")
    f.link = LinkKind::Probit;
  else if (link == "cauchit")
    f.link = LinkKind::Cauchit;
  else if (link == "cloglog")
    f.link = LinkKind::Cloglog;
  else if (link == "identity")
    f.link = LinkKind::Identity;
  else if (link == "log")
    f.link = LinkKind::Log;
  else if (link == "sqrt")
    f.link = LinkKind::Sqrt;
  else if (link == "1/mu^2")
    f.link = LinkKind::InverseSquare;
  else if (link == "inverse")
    f.link = LinkKind::Inverse;
  else if (link.rfind("mu^", 0) == 0) {
    f.link = LinkKind::Power;
    f.lambda = lambda;
  } else {
    throw GlmError("\u2018" + link + "\u2019 link not recognised");
  }
  return f;
}

Initialized initialize_family(const Family& f, const Eigen::Ref<const Eigen::MatrixXd>& Y,
                              const Eigen::Ref<const Eigen::VectorXd>& weights, bool has_start) {
  Initialized out;
  const Eigen::Index n = Y.rows();
  // Large vectors are allocated first (huge-page advice before the first write).
  resize_big(out.weights, n);
  resize_big(out.n, n);
  resize_big(out.y, n);
  resize_big(out.mustart, n);
  out.weights = weights;
  out.n.setOnes();
  const bool binomial_like =
      f.family == FamilyKind::Binomial || f.family == FamilyKind::QuasiBinomial;
  const char* fam_label = f.family == FamilyKind::Binomial ? "binomial" : "quasibinomial";
  if (Y.cols() != 1 && !(binomial_like && Y.cols() == 2)) {
    if (binomial_like)
      throw GlmError(std::string("for the '") + fam_label +
                         "' family, y must be a vector of 0 and 1's\nor a 2 column matrix where "
                         "col 1 is no. successes and col 2 is no. failures",
                     true);
    throw GlmError("the response must be a vector", true);
  }
  if (binomial_like) {
    if (Y.cols() == 1) {
      // y[weights == 0] <- 0; the range check; mustart; the integer check of weights * y: one
      // pass (the error before the warning, as R).
      std::atomic<bool> out_of_range{false}, non_integer{false};
      for_tasks(n, kRowChunk, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
        bool bad = false, frac = false;
        for (Eigen::Index i = b; i < e; ++i) {
          const double w = weights[i], yi = w == 0 ? 0.0 : Y(i, 0);
          out.y[i] = yi;
          bad |= yi < 0 || yi > 1;
          out.mustart[i] = (w * yi + 0.5) / (w + 1);
          const double m = w * yi;
          frac |= std::fabs(m - std::nearbyint(m)) > 1e-3;
        }
        if (bad) out_of_range = true;
        if (frac) non_integer = true;
      });
      if (out_of_range) throw GlmError("y values must be 0 <= y <= 1", true);
      if (f.family == FamilyKind::Binomial && non_integer)
        out.warnings.push_back("non-integer #successes in a binomial glm!");
    } else {
      if (f.family == FamilyKind::Binomial) {
        for (Eigen::Index i = 0; i < n && out.warnings.empty(); ++i)
          for (int j = 0; j < 2; ++j)
            if (std::fabs(Y(i, j) - std::nearbyint(Y(i, j))) > 1e-3) {
              out.warnings.push_back("non-integer counts in a binomial glm!");
              break;
            }
      }
      out.n = Y.col(0) + Y.col(1);
      out.y = Y.col(0).array() / out.n.array();
      for (Eigen::Index i = 0; i < n; ++i)
        if (out.n[i] == 0) out.y[i] = 0;
      out.weights = weights.array() * out.n.array();
      out.mustart = (out.n.array() * out.y.array() + 0.5) / (out.n.array() + 1);
    }
    return out;
  }
  out.y = Y.col(0);
  const Eigen::VectorXd& y = out.y;
  switch (f.family) {
    case FamilyKind::Gaussian:
      if (!has_start) {
        for (Eigen::Index i = 0; i < n; ++i)
          if ((f.link == LinkKind::Inverse && y[i] == 0) || (f.link == LinkKind::Log && y[i] <= 0))
            throw GlmError("cannot find valid starting values: please specify some");
      }
      out.mustart = y;
      break;
    case FamilyKind::Poisson:
    case FamilyKind::QuasiPoisson:
      for (Eigen::Index i = 0; i < n; ++i)
        if (y[i] < 0)
          throw GlmError(f.family == FamilyKind::Poisson
                             ? "negative values not allowed for the 'Poisson' family"
                             : "negative values not allowed for the 'quasiPoisson' family",
                         true);
      out.mustart = y.array() + 0.1;
      break;
    case FamilyKind::Gamma:
      for (Eigen::Index i = 0; i < n; ++i)
        if (y[i] <= 0)
          throw GlmError("non-positive values not allowed for the 'Gamma' family", true);
      out.mustart = y;
      break;
    case FamilyKind::InverseGaussian:
      for (Eigen::Index i = 0; i < n; ++i)
        if (y[i] <= 0)
          throw GlmError("positive values only are allowed for the 'inverse.gaussian' family",
                         true);
      out.mustart = y;
      break;
    case FamilyKind::NegativeBinomial:
      for (Eigen::Index i = 0; i < n; ++i)
        if (y[i] < 0)
          throw GlmError("negative values not allowed for the negative binomial family", true);
      out.mustart = y;
      for (Eigen::Index i = 0; i < n; ++i)
        if (y[i] == 0) out.mustart[i] = y[i] + 1.0 / 6;
      break;
    case FamilyKind::Quasi:
      switch (f.variance) {
        case VarianceKind::Gaussian:
          out.mustart = y;
          break;
        case VarianceKind::QuasiBinomialVar:
          out.mustart = y.array().min(0.999).max(0.001);
          break;
        default:
          out.mustart = y;
          for (Eigen::Index i = 0; i < n; ++i)
            if (y[i] == 0) out.mustart[i] = y[i] + 0.1;
          break;
      }
      break;
    default:
      break;
  }
  return out;
}

GlmResult glm_irls(const GlmDesign& D, Eigen::VectorXd y_in, Eigen::VectorXd weights_in,
                   const VecRef& offset, const Family& f, Eigen::VectorXd eta0,
                   const std::optional<Eigen::VectorXd>& start, const GlmControl& control,
                   Eigen::VectorXd* scratch) {
  const Eigen::Index n = D.n, p = D.p;
  const Eigen::Map<const Eigen::MatrixXd> X(D.X, D.X ? n : 0, D.X ? p : 0);
  GlmResult res;
  res.y = std::move(y_in);
  res.prior_weights = std::move(weights_in);
  const Eigen::VectorXd& y = res.y;
  const Eigen::VectorXd& weights = res.prior_weights;
  res.good.assign(n, 1);
  Eigen::VectorXd eta = std::move(eta0);
  // mu_eta_val: d mu / d eta at the current eta
  Eigen::VectorXd mu = big_vector(n), mu_eta_val = big_vector(n);
  for_tasks(n, kRowChunk, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
    Memo memo;  // the start eta often takes few values (a function of y and the weights)
    for (Eigen::Index i = b; i < e; ++i)
      memo.get2(eta[i], mu[i], mu_eta_val[i],
                [&](double& m1, double& m2) { link_pair(f, eta[i], m1, m2); });
  });
  Eigen::VectorXd own_buf;
  Eigen::VectorXd& dev_buf = scratch ? *scratch : own_buf;

  if (p == 0) {  // empty model: eta = offset
    if (!valideta(f, eta)) throw GlmError("invalid linear predictor values in empty model");
    if (!validmu(f, mu)) throw GlmError("invalid fitted means in empty model");
    res.deviance = deviance_sum(f, y, mu, weights);
    res.working_weights.resize(n);
    res.working_residuals.resize(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      double me = mu_eta1(f, eta[i]);
      res.working_weights[i] = (weights[i] * (me * me)) / variance1(f, mu[i]);
      res.working_residuals[i] = (y[i] - mu[i]) / me;
    }
    res.coefficients.resize(0);
    res.R.resize(0, 0);
    res.eta = eta;
    res.mu = mu;
    res.converged = res.boundary = true;
    res.iter = 0;
    return res;
  }

  if (!(validmu(f, mu) && valideta(f, eta)))
    throw GlmError("cannot find valid starting values: please specify some");
  double devold = deviance_rows_memo(f, y, mu, weights, dev_buf);
  double dev = devold;
  const double tol = std::min(1e-7, control.epsilon / 1000);

  Eigen::VectorXd beta = start ? *start : Eigen::VectorXd::Zero(p);
  std::optional<Eigen::VectorXd> coefold = start;
  Eigen::VectorXd coef = beta;
  bool conv = false, boundary = false;
  int iter = 0;
  Eigen::MatrixXd Xw;  // sqrt(W) X on the good rows, overwritten by its compact QR
  QRPivoting qr;
  bool have_fit = false;
  std::vector<Eigen::Index> good_rows;
  Eigen::VectorXd w_good;  // sqrt working weights on the good rows

  // The Gram path (see weighted_gram): X's rows kept once for every step.
  SparseRows own_rows;
  bool gram_ok = D.rows != nullptr || (D.X != nullptr && sparse_rows(X, own_rows));
  const SparseRows& rows = D.rows ? *D.rows : own_rows;
  bool last_gram = false;  // the last step took the Gram path
  Eigen::MatrixXd last_R;  // its R factor
  Eigen::VectorXd sw = big_vector(n), zwn = big_vector(n), step_mu_eta;
  bool swapped = false;  // this iteration moved its mu.eta to step_mu_eta
  const SparseRows* rows_ptr = gram_ok ? &rows : nullptr;

  for (iter = 1; iter <= control.maxit; ++iter) {
    // Element-wise: V(mu), mu.eta, and sW, sW z on the good rows (sW = 0 elsewhere); on the Gram
    // path in the same pass as G.
    std::mutex flag_mutex;
    WorkFlags flags;
    auto block_weights = [&](Eigen::Index r0, Eigen::Index r1) {
      WorkFlags fl;
      working_rows(f, eta.data(), mu.data(), mu_eta_val.data(), y.data(), weights.data(),
                   offset.data(), sw.data(), zwn.data(), r0, r1, fl);
      if (fl.nan_var | fl.zero_var | fl.nan_mu_eta | fl.nonfinite) {
        std::lock_guard<std::mutex> lock(flag_mutex);
        flags.nan_var |= fl.nan_var;
        flags.zero_var |= fl.zero_var;
        flags.nan_mu_eta |= fl.nan_mu_eta;
        flags.nonfinite |= fl.nonfinite;
      }
    };
    MatL G;
    if (gram_ok) {
      G = rows_gram(rows, sw, zwn, block_weights);
    } else {
      for_tasks(n, kRowChunk,
                [&](Eigen::Index, Eigen::Index b, Eigen::Index e) { block_weights(b, e); });
    }
    const bool nan_var = flags.nan_var, zero_var = flags.zero_var;
    const bool nan_mu_eta = flags.nan_mu_eta, nonfinite = flags.nonfinite;
    if (nan_var) throw GlmError("NAs in V(mu)");
    if (zero_var) throw GlmError("0s in V(mu)");
    if (nan_mu_eta) throw GlmError("NAs in d(mu)/d(eta)");
    // The good rows (weights > 0, mu.eta != 0) are counted here and listed only where a step
    // needs them (the column-by-column path), or once after the loop.
    swapped = false;
    const Eigen::Index ng = count_good(weights, mu_eta_val);
    if (ng == 0) {
      conv = false;
      res.warnings.push_back(fmt_int("no observations informative at iteration %d", iter));
      break;
    }

    Eigen::VectorXd cf = Eigen::VectorXd::Zero(p);
    last_gram = false;
    if (gram_ok && ng >= 4 * p + 16 && !nonfinite) {
      // The first p good rows of sW X and sW z (the top of the matrix R's QR would see).
      MatL Xtop(p, p), ztop(p, 1);
      for (Eigen::Index i = 0, k = 0; k < p; ++i) {
        if (!(weights[i] > 0 && mu_eta_val[i] != 0)) continue;
        for (Eigen::Index j = 0; j < p; ++j)
          Xtop(k, j) = static_cast<LD>((D.X ? X(i, j) : rows.at(i, static_cast<int>(j))) * sw[i]);
        ztop(k, 0) = static_cast<LD>(zwn[i]);
        ++k;
      }
      Eigen::VectorXd b;
      if (tall_solve_gram(G, Xtop, ztop, tol, b, last_R)) {
        last_gram = true;
        qr.rank = static_cast<int>(p);
        qr.pivot.resize(p);
        for (Eigen::Index j = 0; j < p; ++j) qr.pivot[j] = static_cast<int>(j);
        cf = b;
        ++res.gram_steps;
      } else {
        gram_ok = false;  // the design needs the column-by-column path: keep to it
        rows_ptr = nullptr;
      }
    }
    if (!last_gram) {
      if (D.X == nullptr) throw GlmNeedsDense();
      list_good(weights, mu_eta_val, sw, good_rows, w_good);
      Xw.resize(ng, p);
      Eigen::MatrixXd zw(ng, 1);
      for (Eigen::Index k = 0; k < ng; ++k) zw(k, 0) = zwn[good_rows[k]];
      if (ng == n) {  // every row is good: a straight scaled copy (vectorised)
        for (Eigen::Index j = 0; j < p; ++j) Xw.col(j).array() = X.col(j).array() * w_good.array();
      } else {
        for (Eigen::Index j = 0; j < p; ++j)
          for (Eigen::Index k = 0; k < ng; ++k) Xw(k, j) = X(good_rows[k], j) * w_good[k];
      }

      // Tall, well-conditioned steps: LINPACK's factor reconstructed from a fast triangular
      // factor (qr_tall.hpp; same factor and coefficients as dqrdc2 to ~1e-12, used only when
      // dqrdc2 would move no column); otherwise dqrdc2 column by column.
      TallFit tall;
      const bool finite_step = zw.allFinite() && Xw.allFinite();
      if (finite_step && lm_tall_reconstruct(Xw, zw, tol, 0, tall)) {
        qr.qraux = tall.qraux;
        qr.pivot = tall.pivot;
        qr.rank = tall.rank;
        cf.head(qr.rank) = tall.coef.col(0).head(qr.rank);
        ++res.reconstructed_steps;
      } else {
        qr = qr_dqrdc2_inplace(Xw, tol);
        qr_qty_inplace(Xw, qr.qraux, qr.rank, zw);
        if (qr.rank > 0) cf.head(qr.rank) = qr_solve_r(Xw, qr.rank, zw).col(0);
      }
    }
    have_fit = true;
    bool finite = true;
    for (int j = 0; j < qr.rank; ++j)
      if (!std::isfinite(cf[j])) finite = false;
    if (!finite) {
      conv = false;
      res.warnings.push_back(fmt_int("non-finite coefficients at iteration %d", iter));
      break;
    }
    if (n < qr.rank) {
      char buf[256];
      std::snprintf(buf, sizeof buf, "X matrix has rank %d, but only %d observation%s", qr.rank,
                    static_cast<int>(n), n == 1 ? "" : "s");
      throw GlmError(buf);
    }
    for (Eigen::Index j = 0; j < p; ++j) beta[qr.pivot[j]] = (j < qr.rank) ? cf[j] : 0.0;
    step_mu_eta.swap(mu_eta_val);  // keep the step's mu.eta (its good rows) for the end
    swapped = true;
    dev = update_fit(rows_ptr, X, beta, offset, f, y, weights, eta, mu, mu_eta_val, dev_buf);
    {
      char buf[128];
      std::snprintf(buf, sizeof buf, "Deviance = %.17g Iterations - %d", dev, iter);
      res.trace.push_back(buf);
    }
    boundary = false;
    if (!std::isfinite(dev)) {
      if (!coefold)
        throw GlmError(
            "no valid set of coefficients has been found: please supply starting values");
      res.warnings.push_back("step size truncated due to divergence");
      int ii = 1;
      while (!std::isfinite(dev)) {
        if (ii > control.maxit) throw GlmError("inner loop 1; cannot correct step size");
        ++ii;
        beta = (beta + *coefold) / 2;
        dev = update_fit(rows_ptr, X, beta, offset, f, y, weights, eta, mu, mu_eta_val, dev_buf);
      }
      boundary = true;
      char buf[128];
      std::snprintf(buf, sizeof buf, "Step halved: new deviance = %.17g", dev);
      res.trace.push_back(buf);
    }
    if (!(valideta(f, eta) && validmu(f, mu))) {
      if (!coefold)
        throw GlmError(
            "no valid set of coefficients has been found: please supply starting values");
      res.warnings.push_back("step size truncated: out of bounds");
      int ii = 1;
      while (!(valideta(f, eta) && validmu(f, mu))) {
        if (ii > control.maxit) throw GlmError("inner loop 2; cannot correct step size");
        ++ii;
        beta = (beta + *coefold) / 2;
        update_fit(rows_ptr, X, beta, offset, f, y, weights, eta, mu, mu_eta_val, dev_buf);
      }
      boundary = true;
      dev = deviance_rows(f, y, mu, weights, dev_buf);
      char buf[128];
      std::snprintf(buf, sizeof buf, "Step halved: new deviance = %.17g", dev);
      res.trace.push_back(buf);
    }
    if (std::fabs(dev - devold) / (0.1 + std::fabs(dev)) < control.epsilon) {
      conv = true;
      coef = beta;
      break;
    }
    devold = dev;
    coef = beta;
    coefold = beta;
  }
  if (iter > control.maxit) iter = control.maxit;
  if (!have_fit) throw GlmError("no observations informative at the first iteration");

  if (!conv) res.warnings.push_back("glm.fit: algorithm did not converge");
  if (boundary) res.warnings.push_back("glm.fit: algorithm stopped at boundary value");
  const double eps10 = 10 * DBL_EPSILON;
  if (f.family == FamilyKind::Binomial) {
    for (Eigen::Index i = 0; i < n; ++i)
      if (mu[i] > 1 - eps10 || mu[i] < eps10) {
        res.warnings.push_back("glm.fit: fitted probabilities numerically 0 or 1 occurred");
        break;
      }
  }
  if (f.family == FamilyKind::Poisson) {
    for (Eigen::Index i = 0; i < n; ++i)
      if (mu[i] < eps10) {
        res.warnings.push_back("glm.fit: fitted rates numerically 0 occurred");
        break;
      }
  }
  for (Eigen::Index j = qr.rank; j < p; ++j) coef[qr.pivot[j]] = NAN;

  // Working residuals at the final eta, in zwn's storage; working weights sW^2 of the last step
  // (sW is 0 outside its good rows), in sW's.
  const Eigen::VectorXd& step_me = swapped ? step_mu_eta : mu_eta_val;
  for_tasks(n, kRowChunk, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
    for (Eigen::Index i = b; i < e; ++i) {
      zwn[i] = (y[i] - mu[i]) / mu_eta_val[i];
      const bool good = weights[i] > 0 && step_me[i] != 0;
      res.good[i] = good;
      sw[i] = good ? sw[i] * sw[i] : 0.0;
    }
  });
  res.working_residuals = std::move(zwn);
  res.working_weights = std::move(sw);
  if (last_gram) {
    res.R = last_R;
  } else {
    const Eigen::Index nr = std::min<Eigen::Index>(count_good(weights, step_me), p);
    res.R = Eigen::MatrixXd::Identity(p, p);
    res.R.topRows(nr) = Xw.topRows(nr);
    for (Eigen::Index j = 0; j < p; ++j)
      for (Eigen::Index i = j + 1; i < p; ++i) res.R(i, j) = 0.0;
  }
  res.coefficients = coef;
  res.eta = std::move(eta);
  res.mu = std::move(mu);
  res.deviance = dev;
  res.iter = iter;
  res.converged = conv;
  res.boundary = boundary;
  res.pivot = qr.pivot;
  res.rank = qr.rank;
  return res;
}

GlmResult glm_fit(const Eigen::Ref<const Eigen::MatrixXd>& X,
                  const Eigen::Ref<const Eigen::MatrixXd>& Y, const VecRef& weights,
                  const VecRef& offset, bool has_offset, const Family& f, const GlmStart& st,
                  const GlmControl& control, bool intercept, int intercept_col) {
  // A copy only when X is not plain column-major storage (a strided view).
  Eigen::MatrixXd copy;
  const double* data = X.data();
  if (X.outerStride() != X.rows() && X.cols() > 1) {
    copy = X;
    data = copy.data();
  }
  GlmDesign D{data, X.rows(), X.cols(), nullptr};
  return glm_fit(D, Y, weights, offset, has_offset, f, st, control, intercept, intercept_col);
}

GlmResult glm_fit(const GlmDesign& D, const Eigen::Ref<const Eigen::MatrixXd>& Y,
                  const VecRef& weights, const VecRef& offset, bool has_offset, const Family& f,
                  const GlmStart& st, const GlmControl& control, bool intercept,
                  int intercept_col) {
  const Eigen::Index n = Y.rows(), p = D.p;
  const bool has_start = st.start || st.etastart || st.mustart;
  Initialized init = initialize_family(f, Y, weights, has_start);
  if (st.mustart) init.mustart = *st.mustart;

  Eigen::VectorXd eta0;
  std::optional<Eigen::VectorXd> coefold;
  if (p == 0) {
    eta0 = offset;  // empty model: eta = 0 + offset whatever the starting values
  } else if (st.etastart) {
    eta0 = *st.etastart;
  } else if (st.start) {
    if (st.start->size() != p)
      throw GlmError("length of 'start' should equal " + std::to_string(p));
    coefold = *st.start;
    if (D.X) {
      eta0 = linear_predictor(Eigen::Map<const Eigen::MatrixXd>(D.X, n, p), *st.start, offset);
    } else {
      Eigen::VectorXd mu0, me0, buf;
      update_fit(D.rows, Eigen::MatrixXd(), *st.start, offset, f, init.y, init.weights, eta0, mu0,
                 me0, buf);
    }
  } else {  // eta = linkfun(mustart), in mustart's storage
    eta0 = std::move(init.mustart);
    for_tasks(n, kRowChunk, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
      Memo memo;  // mustart is a function of y and the weights: few distinct values, often
      for (Eigen::Index i = b; i < e; ++i)
        eta0[i] = memo.get(eta0[i], 0, 0, [&] { return linkfun1(f, eta0[i]); });
    });
  }
  Eigen::VectorXd scratch;
  GlmResult res = glm_irls(D, std::move(init.y), std::move(init.weights), offset, f,
                           std::move(eta0), coefold, control, &scratch);
  res.warnings.insert(res.warnings.begin(), init.warnings.begin(), init.warnings.end());
  res.n_trials = std::move(init.n);

  // Null deviance (glm.fit, then glm's refit when there is both an offset and an intercept).
  const Eigen::VectorXd& y = res.y;
  const Eigen::VectorXd& w = res.prior_weights;
  if (intercept) {
    long double swy = 0, sw = 0;
    for (Eigen::Index i = 0; i < n; ++i) {
      swy += w[i] * y[i];
      sw += w[i];
    }
    const double wtdmu = static_cast<double>(swy / sw);
    res.null_deviance =
        deviance_rows_by(f, y, [wtdmu](Eigen::Index) { return wtdmu; }, w, scratch, true);
  } else {
    res.null_deviance = deviance_sum(f, y, linkinv(f, offset), w);
  }
  if (has_offset && intercept && intercept_col >= 0 && p > 0) {
    Eigen::VectorXd eta_null = big_vector(n);
    for (Eigen::Index i = 0; i < n; ++i) eta_null[i] = linkfun1(f, res.mu[i]);
    Eigen::VectorXd icol = big_vector(n);
    if (D.X) {
      icol = Eigen::Map<const Eigen::MatrixXd>(D.X, n, p).col(intercept_col);
    } else {
      for (Eigen::Index i = 0; i < n; ++i) icol[i] = D.rows->at(i, intercept_col);
    }
    GlmResult fit2 = glm_irls(GlmDesign{icol.data(), n, 1, nullptr}, y, w, offset, f,
                              std::move(eta_null), std::nullopt, control, &scratch);
    res.warnings.insert(res.warnings.end(), fit2.warnings.begin(), fit2.warnings.end());
    if (!fit2.converged)
      res.warnings.push_back(
          "fitting to calculate the null deviance did not converge -- increase 'maxit'?");
    res.null_deviance = fit2.deviance;
  }
  return res;
}

}  // namespace rmodels
