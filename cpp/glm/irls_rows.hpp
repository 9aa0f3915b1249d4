// The element-wise passes of glm.fit's IRLS over the rows (working weights and responses, the
// linear predictor, fitted means and deviance), threaded over fixed row chunks so that any thread
// count gives the same bits. Internal to glm/ (irls.cpp, glm.cpp).
#pragma once
#include <Eigen/Dense>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "big_alloc.hpp"
#include "design_rows.hpp"
#include "families.hpp"
#include "qr_kernels.hpp"

namespace rmodels {
namespace irls_rows {

using VecRef = Eigen::Ref<const Eigen::VectorXd>;

inline std::string fmt_int(const char* pattern, int a) {
  char buf[256];
  std::snprintf(buf, sizeof buf, pattern, a);
  return buf;
}

inline Eigen::VectorXd linkinv(const Family& f, const VecRef& eta) {
  Eigen::VectorXd mu = big_vector(eta.size());
  for (Eigen::Index i = 0; i < eta.size(); ++i) mu[i] = linkinv1(f, eta[i]);
  return mu;
}

// eta = X b + offset with the column-by-column accumulation of reference BLAS dgemv (zero
// coefficients skipped), then the offset added, as R's drop(x %*% start) + offset.
inline Eigen::VectorXd linear_predictor(const Eigen::Ref<const Eigen::MatrixXd>& X,
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
inline Eigen::Index count_good(const Eigen::VectorXd& wt, const Eigen::VectorXd& me) {
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

inline void list_good(const Eigen::VectorXd& wt, const Eigen::VectorXd& me,
                      const Eigen::VectorXd& sw, std::vector<Eigen::Index>& rows,
                      Eigen::VectorXd& w) {
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
inline void working_rows(Var var, const double* __restrict eta, const double* __restrict mu,
                         const double* __restrict mu_eta, const double* __restrict y,
                         const double* __restrict wt, const double* __restrict off,
                         double* __restrict sw, double* __restrict zw, Eigen::Index r0,
                         Eigen::Index r1, WorkFlags& fl) {
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
inline double update_fit(const SparseRows* sd, const Eigen::Ref<const Eigen::MatrixXd>& X,
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
inline double deviance_rows_by(const Family& f, const Eigen::VectorXd& y, MuAt mu_at,
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

inline double deviance_rows(const Family& f, const Eigen::VectorXd& y, const Eigen::VectorXd& mu,
                            const Eigen::VectorXd& wt, Eigen::VectorXd& buf) {
  return deviance_rows_by(f, y, [&mu](Eigen::Index i) { return mu[i]; }, wt, buf);
}

inline double deviance_rows_memo(const Family& f, const Eigen::VectorXd& y,
                                 const Eigen::VectorXd& mu, const Eigen::VectorXd& wt,
                                 Eigen::VectorXd& buf) {
  return deviance_rows_by(f, y, [&mu](Eigen::Index i) { return mu[i]; }, wt, buf, true);
}

}  // namespace irls_rows
}  // namespace rmodels
