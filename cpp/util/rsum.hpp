// R's sum() and mean() of double vectors (summary.c): sequential sums accumulated in long double,
// the mean with R's refinement pass. Shared by summary.lm's sums and the Python-side helpers.
#pragma once
#include <Eigen/Dense>
#include <cmath>
#include <limits>

namespace rmodels {

// R's sum() of doubles (rsum): sequential, accumulated in long double.
inline double r_sum(const Eigen::Ref<const Eigen::VectorXd>& x) {
  long double s = 0.0L;
  for (Eigen::Index i = 0; i < x.size(); ++i) s += x[i];
  return static_cast<double>(s);
}

// R's mean() of doubles: long-double sum / n, then one refinement pass when finite; NaN for no
// values.
inline double r_mean(const Eigen::Ref<const Eigen::VectorXd>& x) {
  const Eigen::Index n = x.size();
  if (n == 0) return std::numeric_limits<double>::quiet_NaN();
  long double s = 0.0L;
  for (Eigen::Index i = 0; i < n; ++i) s += x[i];
  s /= n;
  if (std::isfinite(static_cast<double>(s))) {
    long double t = 0.0L;
    for (Eigen::Index i = 0; i < n; ++i) t += (x[i] - s);
    s += t / n;
  }
  return static_cast<double>(s);
}

}  // namespace rmodels
