// summary.lm's sums of squares in R's arithmetic (the numerator and denominator of R^2 and F).
#pragma once
#include <Eigen/Dense>

namespace rmodels {

struct SummarySums {
  double mss = 0, rss = 0;
};

// summary.lm's mss and rss: mss = sum((f - mean(f))^2) with R's mean (weighted:
// sum(w (f - m)^2), m = sum(w f / sum(w))), or sum(f^2) / sum(w f^2) without an intercept;
// rss = sum(r^2) / sum(w r^2). Terms in double, sums in long double (R's rsum). `w` empty for
// none. Throws std::invalid_argument when the lengths differ.
SummarySums r_summary_sums(const Eigen::Ref<const Eigen::VectorXd>& f,
                           const Eigen::Ref<const Eigen::VectorXd>& r,
                           const Eigen::Ref<const Eigen::VectorXd>& w, bool intercept);

}  // namespace rmodels
