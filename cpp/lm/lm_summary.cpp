// summary.lm's (mss, rss) with R's arithmetic: element-wise terms in double, sums (rsum) and
// means (R's mean with its refinement pass) accumulated in long double.
#include "lm_summary.hpp"

#include <stdexcept>

#include "rsum.hpp"

namespace rmodels {

namespace {

using VecRef = Eigen::Ref<const Eigen::VectorXd>;

SummarySums unweighted_sums(const VecRef& f, const VecRef& r, bool intercept) {
  const Eigen::Index n = f.size();
  long double mss = 0.0L, rss = 0.0L;
  const double m = intercept ? r_mean(f) : 0.0;
  for (Eigen::Index i = 0; i < n; ++i) {
    const double d = intercept ? f[i] - m : f[i];
    mss += d * d;
    rss += r[i] * r[i];
  }
  return {static_cast<double>(mss), static_cast<double>(rss)};
}

SummarySums weighted_sums(const VecRef& f, const VecRef& r, const VecRef& w, bool intercept) {
  const Eigen::Index n = f.size();
  double m = 0.0;
  if (intercept) {
    const double sw = r_sum(w);
    long double sm = 0.0L;
    for (Eigen::Index i = 0; i < n; ++i) sm += w[i] * f[i] / sw;
    m = static_cast<double>(sm);
  }
  long double mss = 0.0L, rss = 0.0L;
  for (Eigen::Index i = 0; i < n; ++i) {
    const double d = intercept ? f[i] - m : f[i];
    mss += w[i] * (d * d);
    rss += w[i] * (r[i] * r[i]);
  }
  return {static_cast<double>(mss), static_cast<double>(rss)};
}

}  // namespace

SummarySums r_summary_sums(const VecRef& f, const VecRef& r, const VecRef& w, bool intercept) {
  const Eigen::Index n = f.size();
  if (r.size() != n || (w.size() != 0 && w.size() != n))
    throw std::invalid_argument("f, r and w must have the same length");
  return w.size() == 0 ? unweighted_sums(f, r, intercept) : weighted_sums(f, r, w, intercept);
}

}  // namespace rmodels
