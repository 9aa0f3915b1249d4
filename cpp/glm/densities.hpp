// Log densities of the binomial and Poisson distributions by Loader's saddle-point method
// ("Fast and accurate computation of binomial probabilities", 2000), the method R's dbinom and
// dpois use: the log density is written through the Stirling-formula error of the factorials and
// the deviance term bd0(x, np) = x log(x / np) + np - x, each evaluated without cancellation.
// glm's binomial and Poisson AIC sum these (R's family$aic).
#pragma once
#include <cfloat>
#include <cmath>

namespace rmodels {

namespace density_detail {

constexpr long double kLnSqrt2PiL = 0.918938533204672741780329736406L;  // log(sqrt(2 pi))
constexpr double kLnSqrt2Pi = static_cast<double>(kLnSqrt2PiL);
constexpr double kLn2Pi = 1.837877066409345483560659472811;  // log(2 pi)

// The Stirling error at n = k / 2, k = 1..30, from lgamma in long double (the difference
// cancels a few digits that long double keeps).
struct HalfTable {
  double v[31] = {};
  HalfTable() {
    for (int k = 1; k <= 30; ++k) {
      const long double n = static_cast<long double>(k) / 2;
      v[k] = static_cast<double>(std::lgamma(n + 1) - (n + 0.5L) * std::log(n) + n - kLnSqrt2PiL);
    }
  }
};

inline const HalfTable& half_table() {
  static const HalfTable t;
  return t;
}

}  // namespace density_detail

// Error of Stirling's formula for log(n!): log(n!) - (n + 1/2) log(n) + n - log(sqrt(2 pi)).
inline double stirling_error(double n) {
  using namespace density_detail;
  if (n <= 15.0) {
    const double nn = n + n;
    if (n <= 0) return 0.0;  // not used: the densities below never need n = 0
    if (nn == std::floor(nn)) return half_table().v[static_cast<int>(nn)];
    return std::lgamma(n + 1.0) - (n + 0.5) * std::log(n) + n - kLnSqrt2Pi;
  }
  // Asymptotic series 1/(12n) - 1/(360n^3) + 1/(1260n^5) - 1/(1680n^7) + 1/(1188n^9).
  constexpr double s0 = 1.0 / 12, s1 = 1.0 / 360, s2 = 1.0 / 1260, s3 = 1.0 / 1680, s4 = 1.0 / 1188;
  const double nn = n * n;
  if (n > 500) return (s0 - s1 / nn) / n;
  if (n > 80) return (s0 - (s1 - s2 / nn) / nn) / n;
  if (n > 35) return (s0 - (s1 - (s2 - s3 / nn) / nn) / nn) / n;
  return (s0 - (s1 - (s2 - (s3 - s4 / nn) / nn) / nn) / nn) / n;
}

// x log(x / np) + np - x, by its series in v = (x - np) / (x + np) when x is near np.
inline double deviance_term(double x, double np) {
  if (std::fabs(x - np) < 0.1 * (x + np)) {
    double v = (x - np) / (x + np);
    double s = (x - np) * v;
    if (std::fabs(s) < DBL_MIN) return s;
    double ej = 2 * x * v;
    v = v * v;
    for (int j = 1; j < 1000; ++j) {
      ej *= v;
      const double s1 = s + ej / (2 * j + 1);
      if (s1 == s) return s1;
      s = s1;
    }
  }
  return x * std::log(x / np) + np - x;
}

// log P(X = x), X ~ Binomial(n, p), for integer 0 <= x, n (q = 1 - p).
inline double binomial_log_density(double x, double n, double p, double q) {
  using namespace density_detail;
  if (p == 0) return x == 0 ? 0.0 : -INFINITY;
  if (q == 0) return x == n ? 0.0 : -INFINITY;
  if (x == 0) {
    if (n == 0) return 0.0;
    return p < 0.1 ? -deviance_term(n, n * q) - n * p : n * std::log(q);
  }
  if (x == n) return q < 0.1 ? -deviance_term(n, n * p) - n * q : n * std::log(p);
  if (x < 0 || x > n) return -INFINITY;
  const double lc = stirling_error(n) - stirling_error(x) - stirling_error(n - x) -
                    deviance_term(x, n * p) - deviance_term(n - x, n * q);
  const double lf = kLn2Pi + std::log(x) + std::log1p(-x / n);
  return lc - 0.5 * lf;
}

// log P(X = x), X ~ Poisson(lambda), for integer x >= 0.
inline double poisson_log_density(double x, double lambda) {
  using namespace density_detail;
  if (lambda == 0) return x == 0 ? 0.0 : -INFINITY;
  if (!std::isfinite(lambda) || x < 0) return -INFINITY;
  if (x <= lambda * DBL_MIN) return -lambda;
  if (lambda < x * DBL_MIN) return -lambda + x * std::log(lambda) - std::lgamma(x + 1);
  return -0.5 * std::log(2 * M_PI * x) - stirling_error(x) - deviance_term(x, lambda);
}

// log f(x), X ~ Gamma(shape, scale), for x > 0 (R's dgamma(x, shape, scale = scale, log = TRUE):
// the Poisson saddle-point density at shape - 1 or, for shape < 1, at shape).
inline double gamma_log_density(double x, double shape, double scale) {
  if (shape < 0 || scale <= 0) return NAN;
  if (x < 0) return -INFINITY;
  if (shape == 0) return x == 0 ? INFINITY : -INFINITY;
  if (x == 0) {
    if (shape < 1) return INFINITY;
    if (shape > 1) return -INFINITY;
    return -std::log(scale);
  }
  if (shape < 1) {
    const double r = shape / x;
    return poisson_log_density(shape, x / scale) +
           (std::isfinite(r) ? std::log(r) : std::log(shape) - std::log(x));
  }
  return poisson_log_density(shape - 1, x / scale) - std::log(scale);
}

}  // namespace rmodels
