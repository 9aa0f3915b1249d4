// binomial()$aic and poisson()$aic with R's saddle-point log densities (densities.hpp); the
// aic of the other families (gaussian, Gamma, inverse.gaussian, negative binomial).
#include "family_aic.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "densities.hpp"
#include "design_rows.hpp"

namespace rmodels {

namespace {

using VecRef = Eigen::Ref<const Eigen::VectorXd>;

// wt / m dbinom(round(m y), round(m), mu, log = TRUE), m the trials of the row.
double binomial_term(double m, double y, double mu, double wt) {
  const double k = std::nearbyint(m * y), size = std::nearbyint(m);
  const double ld = (mu < 0 || mu > 1 || size < 0)
                        ? NAN
                        : (k < 0 ? -INFINITY : binomial_log_density(k, size, mu, 1 - mu));
  return (m > 0 ? wt / m : 0.0) * ld;
}

// dpois(y, mu, log = TRUE) wt; a non-integer y gives -Inf and is recorded in `bad`.
double poisson_term(double x, double mu, double wt, std::vector<double>& bad) {
  double ld;
  if (mu < 0) {
    ld = NAN;
  } else if (std::fabs(x - std::nearbyint(x)) > 1e-7 * std::max(1.0, std::fabs(x))) {
    bad.push_back(x);
    ld = -INFINITY;
  } else {
    ld = poisson_log_density(std::nearbyint(x), mu);
  }
  return ld * wt;
}

}  // namespace

CountAic glm_count_aic(bool binomial, const VecRef& y, const VecRef& n, const VecRef& mu,
                       const VecRef& wt) {
  const Eigen::Index len = y.size();
  if (n.size() != len || mu.size() != len || wt.size() != len)
    throw std::invalid_argument("y, n, mu and wt must have the same length");
  bool by_n = false;  // binomial: m = n when some n > 1, else the weights
  if (binomial)
    for (Eigen::Index i = 0; i < len && !by_n; ++i) by_n = n[i] > 1;
  const Eigen::Index tasks = (len + kRowChunk - 1) / kRowChunk;
  std::vector<long double> part(static_cast<std::size_t>(tasks), 0.0L);
  std::vector<std::vector<double>> bad(static_cast<std::size_t>(tasks));
  for_tasks(len, kRowChunk, [&](Eigen::Index t, Eigen::Index b, Eigen::Index e) {
    long double s = 0;
    for (Eigen::Index i = b; i < e; ++i)
      s += binomial ? binomial_term(by_n ? n[i] : wt[i], y[i], mu[i], wt[i])
                    : poisson_term(y[i], mu[i], wt[i], bad[static_cast<std::size_t>(t)]);
    part[static_cast<std::size_t>(t)] = s;
  });
  long double total = 0;
  for (long double v : part) total += v;
  CountAic out;
  out.aic = -2 * static_cast<double>(total);
  for (auto& v : bad) out.non_integer.insert(out.non_integer.end(), v.begin(), v.end());
  return out;
}

double glm_family_aic(const Family& family, const VecRef& y, const VecRef& mu, const VecRef& wt,
                          double dev) {
  const Eigen::Index len = y.size();
  if (mu.size() != len || wt.size() != len)
    throw std::invalid_argument("y, mu and wt must have the same length");
  switch (family.family) {
    case FamilyKind::Gaussian: {
      const double nobs = static_cast<double>(len);
      return nobs * (std::log(2 * M_PI * dev / nobs) + 1) + 2 - wt.array().log().sum();
    }
    case FamilyKind::Gamma: {
      const double disp = dev / wt.sum();
      double s = 0;  // summed in order, as lme4's gammaDist::aic
      for (Eigen::Index i = 0; i < len; ++i)
        s += wt[i] * gamma_log_density(y[i], 1 / disp, mu[i] * disp);
      return -2 * s + 2;
    }
    case FamilyKind::InverseGaussian: {
      const double sw = wt.sum();
      return sw * (std::log(dev / sw * 2 * M_PI) + 1) + 3 * (y.array().log() * wt.array()).sum() +
             2;
    }
    case FamilyKind::NegativeBinomial: {
      const double th = family.theta;
      const double c = -th * std::log(th) + std::lgamma(th);
      double s = 0;
      for (Eigen::Index i = 0; i < len; ++i)
        s += wt[i] * (y[i] + th) * std::log(mu[i] + th) - y[i] * std::log(mu[i]) +
             std::lgamma(y[i] + 1) + c - std::lgamma(th + y[i]);
      return 2 * s;
    }
    default:
      throw std::invalid_argument(
          "glm_family_aic: not a gaussian, Gamma, inverse.gaussian or negative binomial family");
  }
}

}  // namespace rmodels
