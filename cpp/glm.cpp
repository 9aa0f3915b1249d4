// IRLS for generalized linear models, step by step as R 4.2.2's stats::glm.fit.
//
// Each iteration: working response z = (eta - offset) + (y - mu) / mu.eta(eta) and working
// weights W = w * mu.eta(eta)^2 / V(mu) on the "good" rows (w > 0, mu.eta != 0); the weighted
// least-squares step solves min || sqrt(W) (z - X b) || with LINPACK dqrdc2's limited pivoting
// (tol = min(1e-7, epsilon / 1000)); then eta = X b + offset, mu = g^{-1}(eta) and the deviance;
// non-finite deviance or invalid eta/mu halve the step towards the previous coefficients.
#include "glm.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "qr.hpp"
#include "qr_tall.hpp"

namespace rmodels {

namespace {

std::string fmt_int(const char* pattern, int a) {
  char buf[256];
  std::snprintf(buf, sizeof buf, pattern, a);
  return buf;
}

Eigen::VectorXd linkinv(const Family& f, const Eigen::VectorXd& eta) {
  Eigen::VectorXd mu(eta.size());
  for (Eigen::Index i = 0; i < eta.size(); ++i) mu[i] = linkinv1(f, eta[i]);
  return mu;
}

// eta = X b + offset with the column-by-column accumulation of reference BLAS dgemv (zero
// coefficients skipped), then the offset added, as R's drop(x %*% start) + offset.
Eigen::VectorXd linear_predictor(const Eigen::Ref<const Eigen::MatrixXd>& X,
                                 const Eigen::VectorXd& beta, const Eigen::VectorXd& offset) {
  Eigen::VectorXd eta = Eigen::VectorXd::Zero(X.rows());
  for (Eigen::Index j = 0; j < X.cols(); ++j)
    if (beta[j] != 0.0) eta.noalias() += beta[j] * X.col(j);
  eta += offset;
  return eta;
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
    if (variance == "constant") f.variance = VarianceKind::Gaussian;
    else if (variance == "mu(1-mu)") f.variance = VarianceKind::QuasiBinomialVar;
    else if (variance == "mu") f.variance = VarianceKind::QuasiMu;
    else if (variance == "mu^2") f.variance = VarianceKind::QuasiMu2;
    else if (variance == "mu^3") f.variance = VarianceKind::QuasiMu3;
    else throw GlmError("'variance' \"" + variance + "\" is invalid");
  } else {
    throw GlmError("family '" + family + "' not recognized");
  }
  f.link_name = link;
  if (link == "logit") f.link = LinkKind::Logit;
  else if (link == "probit") f.link = LinkKind::Probit;
  else if (link == "cauchit") f.link = LinkKind::Cauchit;
  else if (link == "cloglog") f.link = LinkKind::Cloglog;
  else if (link == "identity") f.link = LinkKind::Identity;
  else if (link == "log") f.link = LinkKind::Log;
  else if (link == "sqrt") f.link = LinkKind::Sqrt;
  else if (link == "1/mu^2") f.link = LinkKind::InverseSquare;
  else if (link == "inverse") f.link = LinkKind::Inverse;
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
  out.weights = weights;
  out.n = Eigen::VectorXd::Ones(n);
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
      out.y = Y.col(0);
      for (Eigen::Index i = 0; i < n; ++i)
        if (weights[i] == 0) out.y[i] = 0;
      for (Eigen::Index i = 0; i < n; ++i)
        if (out.y[i] < 0 || out.y[i] > 1) throw GlmError("y values must be 0 <= y <= 1", true);
      out.mustart = (weights.array() * out.y.array() + 0.5) / (weights.array() + 1);
      if (f.family == FamilyKind::Binomial) {
        for (Eigen::Index i = 0; i < n; ++i) {
          double m = weights[i] * out.y[i];
          if (std::fabs(m - std::nearbyint(m)) > 1e-3) {
            out.warnings.push_back("non-integer #successes in a binomial glm!");
            break;
          }
        }
      }
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
        case VarianceKind::Gaussian: out.mustart = y; break;
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
    default: break;
  }
  return out;
}

GlmResult glm_irls(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::VectorXd& y,
                   const Eigen::VectorXd& weights, const Eigen::VectorXd& offset,
                   const Family& f, const Eigen::VectorXd& eta0,
                   const std::optional<Eigen::VectorXd>& start, const GlmControl& control) {
  const Eigen::Index n = X.rows(), p = X.cols();
  GlmResult res;
  res.y = y;
  res.prior_weights = weights;
  res.good.assign(n, 1);
  Eigen::VectorXd eta = eta0;
  Eigen::VectorXd mu = linkinv(f, eta);

  if (p == 0) {  // empty model: eta = offset
    if (!valideta(f, eta))
      throw GlmError("invalid linear predictor values in empty model");
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
  double devold = deviance_sum(f, y, mu, weights);
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

  for (iter = 1; iter <= control.maxit; ++iter) {
    for (Eigen::Index i = 0; i < n; ++i) {
      if (!(weights[i] > 0)) continue;
      double v = variance1(f, mu[i]);
      if (std::isnan(v)) throw GlmError("NAs in V(mu)");
      if (v == 0) throw GlmError("0s in V(mu)");
    }
    Eigen::VectorXd mu_eta_val(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      mu_eta_val[i] = mu_eta1(f, eta[i]);
      if (weights[i] > 0 && std::isnan(mu_eta_val[i])) throw GlmError("NAs in d(mu)/d(eta)");
    }
    good_rows.clear();
    for (Eigen::Index i = 0; i < n; ++i)
      if (weights[i] > 0 && mu_eta_val[i] != 0) good_rows.push_back(i);
    if (good_rows.empty()) {
      conv = false;
      res.warnings.push_back(fmt_int("no observations informative at iteration %d", iter));
      break;
    }
    const Eigen::Index ng = static_cast<Eigen::Index>(good_rows.size());
    Xw.resize(ng, p);
    Eigen::MatrixXd zw(ng, 1);
    w_good.resize(ng);
    for (Eigen::Index k = 0; k < ng; ++k) {
      const Eigen::Index i = good_rows[k];
      const double me = mu_eta_val[i];
      const double z = (eta[i] - offset[i]) + (y[i] - mu[i]) / me;
      const double w = std::sqrt((weights[i] * (me * me)) / variance1(f, mu[i]));
      w_good[k] = w;
      zw(k, 0) = z * w;
    }
    if (ng == n) {  // every row is good: a straight scaled copy (vectorised)
      for (Eigen::Index j = 0; j < p; ++j) Xw.col(j).array() = X.col(j).array() * w_good.array();
    } else {
      for (Eigen::Index j = 0; j < p; ++j)
        for (Eigen::Index k = 0; k < ng; ++k) Xw(k, j) = X(good_rows[k], j) * w_good[k];
    }

    // Tall, well-conditioned steps: LINPACK's factor reconstructed from a fast triangular
    // factor (qr_tall.hpp; same factor and coefficients as dqrdc2 to ~1e-12, used only when
    // dqrdc2 would move no column); otherwise dqrdc2 column by column.
    Eigen::VectorXd cf = Eigen::VectorXd::Zero(p);
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
    eta = linear_predictor(X, beta, offset);
    mu = linkinv(f, eta);
    dev = deviance_sum(f, y, mu, weights);
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
        eta = linear_predictor(X, beta, offset);
        mu = linkinv(f, eta);
        dev = deviance_sum(f, y, mu, weights);
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
        eta = linear_predictor(X, beta, offset);
        mu = linkinv(f, eta);
      }
      boundary = true;
      dev = deviance_sum(f, y, mu, weights);
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
  if (!have_fit)
    throw GlmError("no observations informative at the first iteration");

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

  res.working_residuals.resize(n);
  for (Eigen::Index i = 0; i < n; ++i)
    res.working_residuals[i] = (y[i] - mu[i]) / mu_eta1(f, eta[i]);

  const Eigen::Index ng = static_cast<Eigen::Index>(good_rows.size());
  const Eigen::Index nr = std::min<Eigen::Index>(ng, p);
  res.R = Eigen::MatrixXd::Identity(p, p);
  res.R.topRows(nr) = Xw.topRows(nr);
  for (Eigen::Index j = 0; j < p; ++j)
    for (Eigen::Index i = j + 1; i < p; ++i) res.R(i, j) = 0.0;

  res.working_weights = Eigen::VectorXd::Zero(n);
  std::fill(res.good.begin(), res.good.end(), 0);
  for (Eigen::Index k = 0; k < ng; ++k) {
    res.working_weights[good_rows[k]] = w_good[k] * w_good[k];
    res.good[good_rows[k]] = 1;
  }
  res.coefficients = coef;
  res.eta = eta;
  res.mu = mu;
  res.deviance = dev;
  res.iter = iter;
  res.converged = conv;
  res.boundary = boundary;
  res.pivot = qr.pivot;
  res.rank = qr.rank;
  return res;
}

GlmResult glm_fit(const Eigen::Ref<const Eigen::MatrixXd>& X,
                  const Eigen::Ref<const Eigen::MatrixXd>& Y, const Eigen::VectorXd& weights,
                  const Eigen::VectorXd& offset, bool has_offset, const Family& f,
                  const GlmStart& st, const GlmControl& control, bool intercept,
                  int intercept_col) {
  const Eigen::Index n = Y.rows(), p = X.cols();
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
    if (st.start->size() != p) throw GlmError("length of 'start' should equal " +
                                              std::to_string(p));
    coefold = *st.start;
    eta0 = linear_predictor(X, *st.start, offset);
  } else {
    eta0.resize(n);
    for (Eigen::Index i = 0; i < n; ++i) eta0[i] = linkfun1(f, init.mustart[i]);
  }
  GlmResult res = glm_irls(X, init.y, init.weights, offset, f, eta0, coefold, control);
  res.warnings.insert(res.warnings.begin(), init.warnings.begin(), init.warnings.end());
  res.n_trials = init.n;

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
    long double s = 0;
    for (Eigen::Index i = 0; i < n; ++i) s += dev_resid1(f, y[i], wtdmu, w[i]);
    res.null_deviance = static_cast<double>(s);
  } else {
    res.null_deviance = deviance_sum(f, y, linkinv(f, offset), w);
  }
  if (has_offset && intercept && intercept_col >= 0 && p > 0) {
    Eigen::VectorXd eta_null(n);
    for (Eigen::Index i = 0; i < n; ++i) eta_null[i] = linkfun1(f, res.mu[i]);
    GlmResult fit2 = glm_irls(X.col(intercept_col), y, w, offset, f, eta_null, std::nullopt,
                              control);
    res.warnings.insert(res.warnings.end(), fit2.warnings.begin(), fit2.warnings.end());
    if (!fit2.converged)
      res.warnings.push_back(
          "fitting to calculate the null deviance did not converge -- increase 'maxit'?");
    res.null_deviance = fit2.deviance;
  }
  return res;
}

}  // namespace rmodels
