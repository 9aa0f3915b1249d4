// GLM families and links as small element-wise kernels, following R 4.2.2's family objects
// (stats::make.link, binomial(), poisson(), Gamma(), inverse.gaussian(), gaussian(), quasi*()).
//
// A family is split into the three parts glm.fit uses separately:
//   Link      g, g^{-1}, dmu/deta, valideta                    (make.link / power())
//   Variance  V(mu), validmu, the unit deviance, initialize    (the family's own functions)
//   the family name, which decides the warnings, the AIC and the dispersion rule.
// Clamps and special cases are R's, because they decide the iteration path under separation.
#pragma once
#include <Eigen/Dense>
#include <cfloat>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

namespace rmodels {

enum class LinkKind {
  Logit,
  Probit,
  Cauchit,
  Cloglog,
  Identity,
  Log,
  Sqrt,
  InverseSquare,
  Inverse,
  Power
};

// The variance function decides V(mu), validmu and the unit deviance.
//   Gaussian = "constant", Binomial = "mu(1-mu)", Poisson = the Poisson family's "mu",
//   QuasiMu = quasi(variance = "mu"), Gamma = Gamma family "mu^2", QuasiMu2 = quasi "mu^2",
//   InverseGaussian = inverse.gaussian "mu^3", QuasiMu3 = quasi "mu^3".
enum class VarianceKind {
  Gaussian,
  Binomial,
  QuasiBinomialVar,
  Poisson,
  QuasiMu,
  Gamma,
  QuasiMu2,
  InverseGaussian,
  QuasiMu3,
  NegativeBinomial
};

enum class FamilyKind {
  Gaussian,
  Binomial,
  QuasiBinomial,
  Poisson,
  QuasiPoisson,
  Gamma,
  InverseGaussian,
  Quasi,
  NegativeBinomial
};

struct Family {
  FamilyKind family = FamilyKind::Gaussian;
  LinkKind link = LinkKind::Identity;
  VarianceKind variance = VarianceKind::Gaussian;
  double lambda = 1.0;  // exponent of power(lambda) links
  double theta = NAN;   // MASS::negative.binomial(theta): V(mu) = mu + mu^2 / theta
  std::string link_name = "identity";
};

// What went wrong in glm.fit / family$initialize, so that callers need not read the message:
//   ResponseValues    y outside the family's range (R's family$initialize checks: data errors)
//   ResponseShape     y neither a vector nor, for the binomial families, two columns
//   InvalidArgument   unknown family, link or variance; theta <= 0; a wrong length of start
//   NoValidStart      "cannot find valid starting values: please specify some"
//   NoValidCoefficients  "no valid set of coefficients has been found: please supply ..."
//   StepCorrection    "inner loop 1 / 2; cannot correct step size"
//   InvalidWorkingValues  "NAs in V(mu)", "0s in V(mu)", "NAs in d(mu)/d(eta)"
//   EmptyModel        invalid linear predictor or fitted means in an empty model
//   RankExceedsObservations  "X matrix has rank r, but only n observations"
//   NoInformativeObservations  "no observations informative at the first iteration"
enum class GlmErrorKind {
  ResponseValues,
  ResponseShape,
  InvalidArgument,
  NoValidStart,
  NoValidCoefficients,
  StepCorrection,
  InvalidWorkingValues,
  EmptyModel,
  RankExceedsObservations,
  NoInformativeObservations
};

// R's warnings of glm.fit / family$initialize, in R's words (the message says which):
//   NotConverged ("glm.fit: algorithm did not converge"), NullDevianceNotConverged (glm's
//   intercept-only refit), Boundary ("algorithm stopped at boundary value"),
//   FittedProbabilitiesZeroOne, FittedRatesZero, NoInformativeObservations ("... at iteration
//   k"), NonFiniteCoefficients, StepTruncatedDivergence, StepTruncatedOutOfBounds,
//   NonIntegerSuccesses, NonIntegerCounts (binomial responses).
enum class GlmWarningKind {
  NotConverged,
  NullDevianceNotConverged,
  Boundary,
  FittedProbabilitiesZeroOne,
  FittedRatesZero,
  NoInformativeObservations,
  NonFiniteCoefficients,
  StepTruncatedDivergence,
  StepTruncatedOutOfBounds,
  NonIntegerSuccesses,
  NonIntegerCounts
};

// An error with R's message text (glm.fit / family$initialize) and its kind; Python maps the
// kind to FitError or DataError. `data_error`: the kind is about the response's values or shape.
struct GlmError : std::runtime_error {
  GlmErrorKind kind;
  bool data_error;
  GlmError(GlmErrorKind k, const std::string& msg)
      : std::runtime_error(msg),
        kind(k),
        data_error(k == GlmErrorKind::ResponseValues || k == GlmErrorKind::ResponseShape) {}
  // The former form: a data error is ResponseValues, anything else InvalidArgument.
  explicit GlmError(const std::string& msg, bool is_data_error = false)
      : GlmError(is_data_error ? GlmErrorKind::ResponseValues : GlmErrorKind::InvalidArgument,
                 msg) {}
};

namespace detail {
constexpr double kEps = DBL_EPSILON;
inline double y_log_y(double y, double mu) { return (y != 0.) ? (y * std::log(y / mu)) : 0.0; }
inline double pnorm(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
inline double dnorm(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI); }
// Acklam-free exact inversion is not needed inside the IRLS: linkfun is only applied to mustart,
// whose probit/cauchit images are refined by Newton steps on the (accurate) CDF.
inline double qnorm(double p) {
  if (p <= 0) return -INFINITY;
  if (p >= 1) return INFINITY;
  // Upper half by symmetry on 1 - p, as R's qnorm works on min(p, 1 - p).
  if (p > 0.5) return -qnorm(1 - p);
  // Start from a rational approximation (Abramowitz-Stegun 26.2.23), then polish by Halley steps.
  double q = p;
  double t = std::sqrt(-2.0 * std::log(q));
  double x = t - (2.515517 + 0.802853 * t + 0.010328 * t * t) /
                     (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t);
  x = -x;
  for (int k = 0; k < 4; ++k) {
    double e = pnorm(x) - p;
    double u = e / dnorm(x);
    x = x - u / (1 + x * u / 2);
  }
  return x;
}
// R's pcauchy / qcauchy (nmath): the tail forms keep full relative accuracy away from 0.
inline double pcauchy(double x) {
  if (std::fabs(x) > 1) {
    double y = std::atan(1 / x) / M_PI;
    return (x > 0) ? (0.5 - y + 0.5) : -y;
  }
  return 0.5 + std::atan(x) / M_PI;
}
inline double qcauchy(double p) {
  if (p == 0.5) return 0.0;
  if (p > 0.5) return (p == 1.0) ? INFINITY : 1.0 / std::tan(M_PI * (1 - p));
  return (p == 0.0) ? -INFINITY : -1.0 / std::tan(M_PI * p);
}
inline double dcauchy(double x) { return 1.0 / (M_PI * (1.0 + x * x)); }
}  // namespace detail

// ---- link kernels ----------------------------------------------------------------------

inline double linkfun1(const Family& f, double mu) {
  switch (f.link) {
    case LinkKind::Logit:
      return std::log(mu / (1 - mu));
    case LinkKind::Probit:
      return detail::qnorm(mu);
    case LinkKind::Cauchit:
      return detail::qcauchy(mu);
    case LinkKind::Cloglog:
      return std::log(-std::log(1 - mu));
    case LinkKind::Identity:
      return mu;
    case LinkKind::Log:
      return std::log(mu);
    case LinkKind::Sqrt:
      return std::sqrt(mu);
    case LinkKind::InverseSquare:
      return 1 / (mu * mu);
    case LinkKind::Inverse:
      return 1 / mu;
    case LinkKind::Power:
      return std::pow(mu, f.lambda);
  }
  return NAN;
}

inline double linkinv1(const Family& f, double eta) {
  using detail::kEps;
  switch (f.link) {
    case LinkKind::Logit: {
      double t = (eta < -30.) ? kEps : ((eta > 30.) ? 1 / kEps : std::exp(eta));
      return t / (1 + t);
    }
    case LinkKind::Probit: {
      const double thresh = 8.125890664701906;  // -qnorm(.Machine$double.eps)
      double e = std::min(std::max(eta, -thresh), thresh);
      return detail::pnorm(e);
    }
    case LinkKind::Cauchit: {
      const double thresh = 1433540284805664.8;  // -qcauchy(.Machine$double.eps)
      double e = std::min(std::max(eta, -thresh), thresh);
      return detail::pcauchy(e);
    }
    case LinkKind::Cloglog:
      return std::max(std::min(-std::expm1(-std::exp(eta)), 1 - kEps), kEps);
    case LinkKind::Identity:
      return eta;
    case LinkKind::Log:
      return std::max(std::exp(eta), kEps);
    case LinkKind::Sqrt:
      return eta * eta;
    case LinkKind::InverseSquare:
      return 1 / std::sqrt(eta);
    case LinkKind::Inverse:
      return 1 / eta;
    case LinkKind::Power:
      return std::max(std::pow(eta, 1 / f.lambda), kEps);
  }
  return NAN;
}

inline double mu_eta1(const Family& f, double eta) {
  using detail::kEps;
  switch (f.link) {
    case LinkKind::Logit: {
      double opexp = 1 + std::exp(eta);
      return (eta > 30. || eta < -30.) ? kEps : std::exp(eta) / (opexp * opexp);
    }
    case LinkKind::Probit:
      return std::max(detail::dnorm(eta), kEps);
    case LinkKind::Cauchit:
      return std::max(detail::dcauchy(eta), kEps);
    case LinkKind::Cloglog: {
      double e = std::min(eta, 700.0);
      return std::max(std::exp(e) * std::exp(-std::exp(e)), kEps);
    }
    case LinkKind::Identity:
      return 1.0;
    case LinkKind::Log:
      return std::max(std::exp(eta), kEps);
    case LinkKind::Sqrt:
      return 2 * eta;
    case LinkKind::InverseSquare:
      return -1 / (2 * std::pow(eta, 1.5));
    case LinkKind::Inverse:
      return -1 / (eta * eta);
    case LinkKind::Power:
      return std::max((1 / f.lambda) * std::pow(eta, 1 / f.lambda - 1), kEps);
  }
  return NAN;
}

// linkinv1 and mu_eta1 of the same eta in one call: the logit and log links share their
// exp(eta) (same operations as the two functions, so the same values).
inline void link_pair(const Family& f, double eta, double& mu, double& me) {
  using detail::kEps;
  if (f.link == LinkKind::Logit && !(eta < -30. || eta > 30.)) {
    const double e = std::exp(eta);
    const double opexp = 1 + e;
    mu = e / opexp;
    me = e / (opexp * opexp);
    return;
  }
  if (f.link == LinkKind::Log) {
    mu = me = std::max(std::exp(eta), kEps);
    return;
  }
  mu = linkinv1(f, eta);
  me = mu_eta1(f, eta);
}

// valideta for the whole vector (R: sqrt, 1/mu^2, power need finite eta > 0; inverse eta != 0).
inline bool valideta(const Family& f, const Eigen::VectorXd& eta) {
  switch (f.link) {
    case LinkKind::Sqrt:
    case LinkKind::InverseSquare:
    case LinkKind::Power:
      for (double e : eta)
        if (!(std::isfinite(e) && e > 0)) return false;
      return true;
    case LinkKind::Inverse:
      for (double e : eta)
        if (!(std::isfinite(e) && e != 0)) return false;
      return true;
    default:
      break;
  }
  // Every family takes valideta from its link (R 4.2.2: Gamma(link = "log")$valideta is TRUE).
  return true;
}

// ---- variance kernels ------------------------------------------------------------------

inline double variance1(const Family& f, double mu) {
  switch (f.variance) {
    case VarianceKind::Gaussian:
      return 1.0;
    case VarianceKind::Binomial:
    case VarianceKind::QuasiBinomialVar:
      return mu * (1 - mu);
    case VarianceKind::Poisson:
    case VarianceKind::QuasiMu:
      return mu;
    case VarianceKind::Gamma:
    case VarianceKind::QuasiMu2:
      return mu * mu;
    case VarianceKind::InverseGaussian:
    case VarianceKind::QuasiMu3:
      return mu * mu * mu;
    case VarianceKind::NegativeBinomial:
      return mu + (mu * mu) / f.theta;
  }
  return NAN;
}

inline bool validmu(const Family& f, const Eigen::VectorXd& mu) {
  switch (f.variance) {
    case VarianceKind::Binomial:
      for (double m : mu)
        if (!(std::isfinite(m) && m > 0 && m < 1)) return false;
      return true;
    case VarianceKind::QuasiBinomialVar:
      for (double m : mu)
        if (!(m > 0 && m < 1)) return false;
      return true;
    case VarianceKind::Poisson:
    case VarianceKind::Gamma:
      for (double m : mu)
        if (!(std::isfinite(m) && m > 0)) return false;
      return true;
    case VarianceKind::QuasiMu:
    case VarianceKind::QuasiMu2:
    case VarianceKind::QuasiMu3:
    case VarianceKind::NegativeBinomial:
      for (double m : mu)
        if (!(m > 0)) return false;
      return true;
    default:
      return true;
  }
}

// Unit deviance contribution of one observation with prior weight wt (family$dev.resids).
inline double dev_resid1(const Family& f, double y, double mu, double wt) {
  switch (f.variance) {
    case VarianceKind::Gaussian:
      return wt * ((y - mu) * (y - mu));
    case VarianceKind::Binomial:
    case VarianceKind::QuasiBinomialVar:
      return 2 * wt * (detail::y_log_y(y, mu) + detail::y_log_y(1 - y, 1 - mu));
    case VarianceKind::Poisson:
      return 2 * ((y > 0) ? (wt * (y * std::log(y / mu) - (y - mu))) : mu * wt);
    case VarianceKind::QuasiMu:
      return 2 * wt * (y * std::log(y == 0 ? 1.0 : y / mu) - (y - mu));
    case VarianceKind::Gamma:
      return -2 * wt * (std::log(y == 0 ? 1.0 : y / mu) - (y - mu) / mu);
    case VarianceKind::QuasiMu2:
      return std::max(-2 * wt * (std::log((y == 0 ? 1.0 : y) / mu) - (y - mu) / mu), 0.0);
    case VarianceKind::InverseGaussian:
    case VarianceKind::QuasiMu3:
      return wt * ((y - mu) * (y - mu)) / (y * (mu * mu));
    case VarianceKind::NegativeBinomial: {
      const double th = f.theta;
      return 2 * wt *
             (y * std::log(std::max(1.0, y) / mu) - (y + th) * std::log((y + th) / (mu + th)));
    }
  }
  return NAN;
}

// Sum of the unit deviances, accumulated in long double as R's sum() does.
inline double deviance_sum(const Family& f, const Eigen::VectorXd& y, const Eigen::VectorXd& mu,
                           const Eigen::VectorXd& wt) {
  long double s = 0;
  for (Eigen::Index i = 0; i < y.size(); ++i) s += dev_resid1(f, y[i], mu[i], wt[i]);
  return static_cast<double>(s);
}

// ---- family$initialize -----------------------------------------------------------------

// Result of the family's initialize step: the response (proportions for binomial), the prior
// weights (multiplied by the trials for a two-column binomial response), the binomial sizes n
// used by the AIC, and mustart.
struct Initialized {
  Eigen::VectorXd y, weights, n, mustart;
  std::vector<std::string> warnings;
  std::vector<GlmWarningKind> warning_kinds;  // one per warning
};

// R's family$initialize for a response Y with one column (or two columns: successes, failures for
// the binomial families). has_start: the user gave start/etastart/mustart (only gaussian cares).
Initialized initialize_family(const Family& f, const Eigen::Ref<const Eigen::MatrixXd>& Y,
                              const Eigen::Ref<const Eigen::VectorXd>& weights, bool has_start);

}  // namespace rmodels
