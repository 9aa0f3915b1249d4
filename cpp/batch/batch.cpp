// Grouped fitting on a static thread pool, results as columns (see batch.hpp).
#include "batch.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <exception>
#include <limits>
#include <stdexcept>
#include <thread>

#include "family_aic.hpp"
#include "irls_small.hpp"
#include "lm_summary.hpp"

namespace rmodels {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}  // namespace

// ---------------------------------------------------------------------------------------------
// The stacked problems

namespace {
// The values of a column source at the source rows r[0 .. n).
void source_column(const ColumnSource& s, const std::int64_t* r, Eigen::Index n, double* dst) {
  switch (s.kind) {
    case ColumnSource::Kind::Ones:
      std::fill(dst, dst + n, 1.0);
      return;
    case ColumnSource::Kind::Numeric:
      for (Eigen::Index i = 0; i < n; ++i) dst[i] = s.values[r[i]];
      return;
    case ColumnSource::Kind::Coding:
      for (Eigen::Index i = 0; i < n; ++i) {
        const std::int32_t code = s.codes[r[i]];
        dst[i] = code < 0 ? kNaN : s.coding[code];
      }
      return;
  }
}
}  // namespace

Eigen::MatrixXd StackedGroups::model_matrix(Eigen::Index g) const {
  Eigen::MatrixXd out;
  model_matrix_into(g, out);
  return out;
}

void StackedGroups::model_matrix_into(Eigen::Index g, Eigen::MatrixXd& out) const {
  const std::int64_t* r = rows + row_ptr[g];
  const std::int64_t* c = cols + col_ptr[g];
  const Eigen::Index n = n_rows(g), p = n_cols(g);
  out.resize(n, p);
  for (Eigen::Index j = 0; j < p; ++j) {
    double* dst = out.col(j).data();
    if (!sources.empty()) {
      source_column(sources[static_cast<std::size_t>(c[j])], r, n, dst);
      continue;
    }
    const double* src = X + c[j] * ld_x;
    for (Eigen::Index i = 0; i < n; ++i) dst[i] = src[r[i]];
  }
}

Eigen::MatrixXd StackedGroups::response(Eigen::Index g) const {
  const std::int64_t* r = rows + row_ptr[g];
  const Eigen::Index n = n_rows(g);
  Eigen::MatrixXd out(n, k);
  for (Eigen::Index j = 0; j < k; ++j)
    for (Eigen::Index i = 0; i < n; ++i) out(i, j) = Y[j * ld_y + r[i]];
  return out;
}

namespace {
Eigen::VectorXd gather(const double* v, const std::int64_t* r, Eigen::Index n) {
  if (v == nullptr) return Eigen::VectorXd();
  Eigen::VectorXd out(n);
  for (Eigen::Index i = 0; i < n; ++i) out[i] = v[r[i]];
  return out;
}
}  // namespace

Eigen::VectorXd StackedGroups::weights_of(Eigen::Index g) const {
  return gather(weights, rows + row_ptr[g], n_rows(g));
}

Eigen::VectorXd StackedGroups::offset_of(Eigen::Index g) const {
  return gather(offset, rows + row_ptr[g], n_rows(g));
}

void CoefColumns::resize(Eigen::Index groups, Eigen::Index p_all) {
  const std::size_t gp = static_cast<std::size_t>(groups * p_all);
  estimate.assign(gp, kNaN);
  std_error.assign(gp, kNaN);
  statistic.assign(gp, kNaN);
  pivot.assign(gp, -1);
  rank.assign(static_cast<std::size_t>(groups), 0);
  df_residual.assign(static_cast<std::size_t>(groups), 0);
  status.assign(static_cast<std::size_t>(groups), static_cast<int>(GroupStatus::Ok));
  message.assign(static_cast<std::size_t>(groups), std::string());
}

// ---------------------------------------------------------------------------------------------
// Threads

int batch_thread_count(int threads, std::size_t tasks) {
  int t = threads;
  if (t <= 0) {
    const unsigned h = std::thread::hardware_concurrency();
    t = h == 0 ? 1 : static_cast<int>(h);
  }
  if (static_cast<std::size_t>(t) > tasks) t = static_cast<int>(tasks);
  return std::max(t, 1);
}

std::vector<std::size_t> partition_by_cost(const std::vector<double>& costs, int threads) {
  const std::size_t m = costs.size();
  std::vector<std::size_t> bounds(static_cast<std::size_t>(threads) + 1, m);
  bounds[0] = 0;
  double total = 0;
  for (double c : costs) total += c;
  double acc = 0;
  std::size_t i = 0;
  for (int t = 1; t < threads; ++t) {
    const double target = total * t / threads;
    while (i < m && acc + 0.5 * costs[i] < target) acc += costs[i++];
    bounds[t] = i;
  }
  return bounds;
}

namespace {

// Runs task(t, i) for i in [0, m) on `threads` workers t, each owning a fixed contiguous range.
template <class Task>
void run_static(const std::vector<double>& costs, int threads, Task task) {
  const std::vector<std::size_t> b = partition_by_cost(costs, threads);
  auto work = [&](int t) {
    for (std::size_t i = b[t]; i < b[t + 1]; ++i) task(t, static_cast<Eigen::Index>(i));
  };
  if (threads == 1) {
    work(0);
    return;
  }
  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(threads) - 1);
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto& th : pool) th.join();
}

std::vector<double> group_costs(const StackedGroups& sg, double per_row_factor) {
  std::vector<double> c(static_cast<std::size_t>(sg.groups));
  for (Eigen::Index g = 0; g < sg.groups; ++g) {
    const double n = static_cast<double>(sg.n_rows(g));
    const double p = static_cast<double>(sg.n_cols(g));
    c[static_cast<std::size_t>(g)] = per_row_factor * n * (p + 1) * (p + 1) + 64;
  }
  return c;
}

void fail(CoefColumns& out, Eigen::Index g, GroupStatus status, const std::string& message) {
  out.status[static_cast<std::size_t>(g)] = static_cast<int>(status);
  out.message[static_cast<std::size_t>(g)] = message;
}

// The coefficient table of one group from its estimates (local column order), pivot, rank and
// (R'R)^{-1} of the non-aliased coefficients in pivoted order: std.error = sqrt(cov_kk * scale)
// and statistic = estimate / std.error at the coefficient's column of the union.
void put_coef_table(CoefColumns& out, const StackedGroups& sg, Eigen::Index g,
                    const Eigen::Ref<const Eigen::VectorXd>& coef, const std::vector<int>& pivot,
                    int rank, const Eigen::MatrixXd& cov, double scale, bool with_se) {
  const std::size_t row = static_cast<std::size_t>(g * sg.p_all);
  const std::int64_t* c = sg.cols + sg.col_ptr[g];
  for (Eigen::Index j = 0; j < coef.size(); ++j)
    out.estimate[row + static_cast<std::size_t>(c[j])] = coef[j];
  for (std::size_t j = 0; j < pivot.size(); ++j) out.pivot[row + j] = pivot[j];
  if (!with_se) return;
  for (int kk = 0; kk < rank; ++kk) {
    const std::size_t at = row + static_cast<std::size_t>(c[pivot[static_cast<std::size_t>(kk)]]);
    const double se = std::sqrt(cov(kk, kk) * scale);
    out.std_error[at] = se;
    out.statistic[at] = out.estimate[at] / se;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Sums with the fit objects' arithmetic

double numpy_pairwise_sum(const double* a, Eigen::Index n) {
  if (n < 8) {
    double res = -0.0;
    for (Eigen::Index i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    double r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    Eigen::Index i = 8;
    for (; i < n - (n % 8); i += 8)
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  Eigen::Index n2 = n / 2;
  n2 -= n2 % 8;
  return numpy_pairwise_sum(a, n2) + numpy_pairwise_sum(a + n2, n - n2);
}

namespace {

// np.sum(v): 0.0 plus the pairwise sum (NumPy starts the reduction from the identity).
double numpy_sum(const std::vector<double>& v) {
  return 0.0 + numpy_pairwise_sum(v.data(), static_cast<Eigen::Index>(v.size()));
}

// lm()'s first check of a group's weights (R's message); false when the group failed.
bool lm_weights_valid(LmBatchColumns& out, Eigen::Index g, const Eigen::VectorXd& w) {
  for (Eigen::Index i = 0; i < w.size(); ++i) {
    if (!(w[i] >= 0.0)) {
      fail(out, g, GroupStatus::DataError, "missing or negative weights not allowed");
      return false;
    }
  }
  return true;
}

void lm_fit_group(const StackedGroups& sg, Eigen::Index g, double tol, bool intercept,
                  LmBatchColumns& out) {
  const std::size_t gi = static_cast<std::size_t>(g);
  const Eigen::Index n = sg.n_rows(g), p = sg.n_cols(g);
  const Eigen::VectorXd w = sg.weights_of(g);
  if (!lm_weights_valid(out, g, w)) return;
  if (n == 0) return fail(out, g, GroupStatus::DataError, "0 (non-NA) cases");
  if (w.size() > 0 && !(w.array() != 0.0).any())
    return fail(out, g, GroupStatus::FitError, "all weights are zero");
  Eigen::MatrixXd X = sg.model_matrix(g);
  const Eigen::MatrixXd Y = sg.response(g);
  const Eigen::VectorXd o = sg.offset_of(g);
  Eigen::VectorXd coef, resid, fitted;
  std::vector<int> pivot;
  int rank = 0, df = 0;
  if (p == 0) {  // y ~ 0: no coefficients, fitted = offset
    fitted = o.size() ? o : Eigen::VectorXd::Zero(n);
    resid = Y.col(0) - fitted;
    df = w.size() ? static_cast<int>((w.array() != 0.0).count()) : static_cast<int>(n);
  } else {
    // One thread per group: the group's numbers never depend on the pool size.
    LmFit f = lm_wfit_inplace(X, Y, w, o, tol, /*threads=*/1);
    coef = f.coefficients.col(0);
    resid = f.residuals.col(0);
    fitted = f.fitted_values.col(0);
    pivot = f.pivot;
    rank = f.rank;
    df = f.df_residual;
  }
  const SummarySums sums = r_summary_sums(fitted, resid, w, intercept);
  const double mss = sums.mss, rss = sums.rss;
  const double resvar = rss / static_cast<double>(df);
  const Eigen::MatrixXd cov = rank > 0 ? qr_cov_unscaled(X, rank) : Eigen::MatrixXd();
  put_coef_table(out, sg, g, coef, pivot, rank, cov, resvar, true);
  // The fit object's deviance (sum of w e^2 over the used rows) and sum(log w) there.
  std::vector<double> dev_terms, log_w;
  dev_terms.reserve(static_cast<std::size_t>(n));
  for (Eigen::Index i = 0; i < n; ++i) {
    if (w.size() == 0) {
      dev_terms.push_back(resid[i] * resid[i]);
    } else if (w[i] != 0.0) {
      dev_terms.push_back(w[i] * resid[i] * resid[i]);
      log_w.push_back(std::log(w[i]));
    }
  }
  out.rank[gi] = rank;
  out.df_residual[gi] = df;
  out.rss[gi] = rss;
  out.mss[gi] = mss;
  out.deviance[gi] = numpy_sum(dev_terms);
  out.sum_log_w[gi] = numpy_sum(log_w);
  out.n_used[gi] = static_cast<int>(dev_terms.size());
}

}  // namespace

LmBatchColumns lm_batch_columns(const StackedGroups& sg, double tol, bool intercept, int threads) {
  if (sg.k != 1) throw std::invalid_argument("lm_batch_columns needs one response column");
  LmBatchColumns out;
  out.resize(sg.groups, sg.p_all);
  const std::size_t G = static_cast<std::size_t>(sg.groups);
  out.rss.assign(G, kNaN);
  out.mss.assign(G, kNaN);
  out.deviance.assign(G, kNaN);
  out.sum_log_w.assign(G, kNaN);
  out.n_used.assign(G, 0);
  const int nt = batch_thread_count(threads, G);
  run_static(group_costs(sg, 1.0), nt, [&](int, Eigen::Index g) {
    try {
      lm_fit_group(sg, g, tol, intercept, out);
    } catch (const std::exception& e) {
      fail(out, g, GroupStatus::FitError, e.what());
    }
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// glm

namespace {

// The family's AIC term of a binomial or Poisson fit (the core's glm_count_aic, as the single
// fit), with R's "non-integer x" warnings for the first 50 non-integer Poisson counts.
double count_aic(bool binomial, const GlmResult& f, std::vector<std::string>& warns,
                 std::vector<GlmWarningKind>& kinds) {
  const CountAic a = glm_count_aic(binomial, f.y, f.n_trials, f.mu, f.prior_weights);
  const std::size_t shown = std::min<std::size_t>(a.non_integer.size(), 50);
  for (std::size_t i = 0; i < shown; ++i) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "non-integer x = %f", a.non_integer[i]);
    warns.emplace_back(buf);
    kinds.push_back(GlmWarningKind::NonIntegerCounts);
  }
  return a.aic;
}

// summary.glm's dispersion: sum(W r^2) / df.residual over the rows with W > 0 (NumPy's order,
// as the fit object), NaN without residual df; 1 for binomial and Poisson.
double glm_dispersion(const GlmResult& f, int df_r, bool fixed) {
  if (fixed) return 1.0;
  if (df_r <= 0) return kNaN;
  std::vector<double> terms;
  const Eigen::VectorXd &W = f.working_weights, &r = f.working_residuals;
  for (Eigen::Index i = 0; i < W.size(); ++i)
    if (W[i] > 0) terms.push_back(W[i] * r[i] * r[i]);
  return numpy_sum(terms) / df_r;
}

struct GlmSetup {
  const Family& family;
  bool fixed_dispersion;
  const GlmControl& control;
  bool intercept;
  const std::vector<int>& intercept_col;
  bool keep_rows;
};

void glm_keep_rows(const StackedGroups& sg, Eigen::Index g, const GlmResult& f,
                   GlmBatchColumns& out) {
  const std::size_t a = static_cast<std::size_t>(sg.row_ptr[g] - sg.row_ptr[0]);
  for (Eigen::Index i = 0; i < f.y.size(); ++i) {
    const std::size_t at = a + static_cast<std::size_t>(i);
    out.y[at] = f.y[i];
    out.mu[at] = f.mu[i];
    out.prior_weights[at] = f.prior_weights[i];
    out.n_trials[at] = f.n_trials[i];
  }
}

// One worker's storage, reused from one group to the next.
struct GlmWork {
  Eigen::MatrixXd X;
  SmallGlmWorkspace small;
};

// glm.fit on group g: the small-problem path (irls_small.hpp) when it applies, else glm_fit;
// cov is summary.glm's unscaled covariance of the non-aliased coefficients (pivoted order).
GlmResult glm_fit_one(const StackedGroups& sg, Eigen::Index g, const GlmSetup& s, GlmWork& work,
                      Eigen::MatrixXd& cov) {
  const Eigen::Index n = sg.n_rows(g);
  // The group's block of the source when its rows and columns are consecutive, else a copy.
  const std::int64_t* r = sg.rows + sg.row_ptr[g];
  const std::int64_t* c = sg.cols + sg.col_ptr[g];
  const Eigen::Index p = sg.n_cols(g);
  bool block = n > 0 && p > 0 && sg.sources.empty();
  for (Eigen::Index i = 1; i < n; ++i) block &= r[i] - i == r[0];  // (no early exit: vectorised)
  for (Eigen::Index j = 1; block && j < p; ++j) block = c[j] == c[0] + j;
  if (!block) sg.model_matrix_into(g, work.X);
  const Eigen::Map<const Eigen::MatrixXd, 0, Eigen::OuterStride<>> view(
      block ? sg.X + c[0] * sg.ld_x + r[0] : work.X.data(), n, block ? p : work.X.cols(),
      Eigen::OuterStride<>(block ? sg.ld_x : std::max<Eigen::Index>(work.X.rows(), 1)));
  const Eigen::Ref<const Eigen::MatrixXd> X = view;
  const Eigen::MatrixXd Y = sg.response(g);
  const Eigen::VectorXd w0 = sg.weights_of(g);
  for (Eigen::Index i = 0; i < w0.size(); ++i)
    if (w0[i] < 0) throw GlmError(GlmErrorKind::ResponseValues, "negative weights not allowed");
  const Eigen::VectorXd w = w0.size() ? w0 : Eigen::VectorXd::Ones(n);
  const bool has_offset = sg.offset != nullptr;
  const Eigen::VectorXd o = has_offset ? sg.offset_of(g) : Eigen::VectorXd::Zero(n);
  const int icol = s.intercept_col[static_cast<std::size_t>(g)];
  GlmResult f;
  work.small.aic_family = kNaN;
  if (glm_fit_small(X, Y, w, o, has_offset, s.family, s.control, s.intercept, work.small, f, cov))
    return f;
  f = glm_fit(X, Y, w, o, has_offset, s.family, GlmStart{}, s.control, s.intercept, icol);
  cov = f.rank > 0 ? qr_cov_unscaled(f.R, f.rank) : Eigen::MatrixXd();
  return f;
}

void glm_fit_group(const StackedGroups& sg, Eigen::Index g, const GlmSetup& s, GlmBatchColumns& out,
                   GlmWork& work) {
  const std::size_t gi = static_cast<std::size_t>(g);
  const Eigen::Index n = sg.n_rows(g);
  Eigen::MatrixXd cov;
  GlmResult f = glm_fit_one(sg, g, s, work, cov);
  const int n_ok = static_cast<int>((f.prior_weights.array() != 0.0).count());
  const int df_r = n_ok - f.rank;
  const double disp = glm_dispersion(f, df_r, s.fixed_dispersion);
  put_coef_table(out, sg, g, f.coefficients, f.pivot, f.rank, cov, disp,
                 s.fixed_dispersion || df_r > 0);
  out.rank[gi] = f.rank;
  out.df_residual[gi] = df_r;
  out.n_ok[gi] = n_ok;
  out.n_rows[gi] = static_cast<int>(n);
  out.n_loglik[gi] =
      static_cast<int>((f.working_residuals.array() == f.working_residuals.array()).count());
  out.deviance[gi] = f.deviance;
  out.null_deviance[gi] = f.null_deviance;
  out.dispersion[gi] = disp;
  out.iter[gi] = f.iter;
  out.converged[gi] = f.converged;
  out.boundary[gi] = f.boundary;
  out.warnings[gi] = f.warnings;
  out.warning_kinds[gi] = f.warning_kinds;
  const FamilyKind kind = s.family.family;
  if (kind == FamilyKind::Binomial && !std::isnan(work.small.aic_family))
    out.aic_family[gi] = work.small.aic_family;  // the small path's deviance
  else if (kind == FamilyKind::Binomial || kind == FamilyKind::Poisson)
    out.aic_family[gi] =
        count_aic(kind == FamilyKind::Binomial, f, out.warnings[gi], out.warning_kinds[gi]);
  if (kind == FamilyKind::Gaussian) {  // the gaussian AIC's sum(log(wt)), in NumPy's order
    std::vector<double> log_w(static_cast<std::size_t>(n));
    for (Eigen::Index i = 0; i < n; ++i)
      log_w[static_cast<std::size_t>(i)] = std::log(f.prior_weights[i]);
    out.sum_log_w[gi] = numpy_sum(log_w);
  }
  if (s.keep_rows) glm_keep_rows(sg, g, f, out);
}

}  // namespace

GlmBatchColumns glm_batch_columns(const StackedGroups& sg, const Family& family,
                                  bool fixed_dispersion, const GlmControl& control, bool intercept,
                                  const std::vector<int>& intercept_col, bool keep_rows,
                                  int threads) {
  if (intercept_col.size() != static_cast<std::size_t>(sg.groups))
    throw std::invalid_argument("one intercept column per group is needed");
  if (sg.k != 1 && sg.k != 2) throw std::invalid_argument("Y must have 1 or 2 columns");
  GlmBatchColumns out;
  out.resize(sg.groups, sg.p_all);
  const std::size_t G = static_cast<std::size_t>(sg.groups);
  for (auto* v :
       {&out.deviance, &out.null_deviance, &out.dispersion, &out.aic_family, &out.sum_log_w})
    v->assign(G, kNaN);
  for (auto* v : {&out.n_ok, &out.n_loglik, &out.n_rows, &out.iter, &out.converged, &out.boundary})
    v->assign(G, 0);
  out.warnings.assign(G, {});
  out.warning_kinds.assign(G, {});
  if (keep_rows) {
    const std::size_t N =
        sg.groups ? static_cast<std::size_t>(sg.row_ptr[sg.groups] - sg.row_ptr[0]) : 0;
    for (auto* v : {&out.y, &out.mu, &out.prior_weights, &out.n_trials}) v->assign(N, kNaN);
  }
  const GlmSetup setup{family, fixed_dispersion, control, intercept, intercept_col, keep_rows};
  const int nt = batch_thread_count(threads, G);
  std::vector<GlmWork> work(static_cast<std::size_t>(nt));
  run_static(group_costs(sg, 8.0), nt, [&](int t, Eigen::Index g) {
    try {
      glm_fit_group(sg, g, setup, out, work[static_cast<std::size_t>(t)]);
    } catch (const GlmError& e) {
      fail(out, g, e.data_error ? GroupStatus::DataError : GroupStatus::FitError, e.what());
    } catch (const std::exception& e) {
      fail(out, g, GroupStatus::FitError, e.what());
    }
  });
  return out;
}

}  // namespace rmodels
