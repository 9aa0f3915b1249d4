// Grouped ("by") fitting as a columnar engine: many independent small fits (one per group) in
// one call, on a pool of std::threads, returning every group's results as arrays (G x P
// coefficients, standard errors, test statistics; per group rank, residual df, sums of squares,
// deviances, status). Each group runs exactly the single-fit kernels of lm.hpp (R's lm.wfit) and
// glm.hpp (R's glm.fit) with one thread, so a group's numbers are the same whatever the number of
// worker threads and the same as the single fit of that group's rows.
#pragma once
#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

#include "glm.hpp"
#include "lm.hpp"

namespace rmodels {

// One column of a model matrix given by what it is made of instead of its values (a design
// whose matrix is never built): a column of ones, a numeric variable, or one column of a factor's
// coding matrix picked by the factor's codes (a negative code: a missing value, NaN). Each value
// is a copy of the variable's or the coding matrix's (the model matrix's bits).
struct ColumnSource {
  enum class Kind { Ones, Numeric, Coding } kind = Kind::Ones;
  const double* values = nullptr;       // Numeric: one per source row
  const std::int32_t* codes = nullptr;  // Coding: one per source row, < levels
  const double* coding = nullptr;       // Coding: the coding matrix's column (levels values)
};

// The groups' problems stacked over one source: group g has the rows
// rows[row_ptr[g] .. row_ptr[g + 1]) of the source arrays (X: n_src x p_all column-major with
// leading dimension ld_x; Y: n_src x k with leading dimension ld_y; weights and offset n_src or
// null for "none") and the columns cols[col_ptr[g] .. col_ptr[g + 1]) of X, in that order. The
// columns index the union of all groups' coefficient names, so group g's coefficient j lands in
// column cols[col_ptr[g] + j] of the G x p_all results.
struct StackedGroups {
  const double* X = nullptr;
  Eigen::Index ld_x = 0, p_all = 0;
  const double* Y = nullptr;
  Eigen::Index ld_y = 0, k = 1;
  const double* weights = nullptr;
  const double* offset = nullptr;
  const std::int64_t* rows = nullptr;
  const std::int64_t* row_ptr = nullptr;
  const std::int64_t* cols = nullptr;
  const std::int64_t* col_ptr = nullptr;
  Eigen::Index groups = 0;
  // When not empty, X is not used: column j of the source is sources[j] (p_all of them).
  std::vector<ColumnSource> sources;

  Eigen::Index n_rows(Eigen::Index g) const { return row_ptr[g + 1] - row_ptr[g]; }
  Eigen::Index n_cols(Eigen::Index g) const { return col_ptr[g + 1] - col_ptr[g]; }
  Eigen::MatrixXd model_matrix(Eigen::Index g) const;                  // n_g x p_g
  void model_matrix_into(Eigen::Index g, Eigen::MatrixXd& out) const;  // the same, in out
  Eigen::MatrixXd response(Eigen::Index g) const;                      // n_g x k
  Eigen::VectorXd weights_of(Eigen::Index g) const;  // n_g, or empty without weights
  Eigen::VectorXd offset_of(Eigen::Index g) const;   // n_g, or empty without offset
};

// Status of a group's fit: ok, or failed with R's message (a fit error or a data error, mapped
// to rmodels' FitError / DataError).
enum class GroupStatus : int { Ok = 0, FitError = 1, DataError = 2 };

// What broom's tidy/glance need of every group, as arrays. Per-coefficient arrays are G x p_all,
// row-major (group g's row is [g * p_all, (g + 1) * p_all)); NaN where a group has no such
// coefficient, where it is aliased, and for failed groups.
struct CoefColumns {
  std::vector<double> estimate, std_error, statistic;
  std::vector<int> pivot;  // G x p_all: group g's pivot (0-based, local to its columns), -1 pad
  std::vector<int> rank, df_residual, status;
  std::vector<std::string> message;  // R's message of a failed group, else empty
  void resize(Eigen::Index groups, Eigen::Index p_all);
};

// lm's columns: summary.lm's sums (rss, mss in long double as R's sum), the deviance as the fit
// object computes it (sum of w e^2 over the used rows in NumPy's pairwise order), sum(log w) over
// the used rows (pairwise order; 0 without weights), the number of used rows.
struct LmBatchColumns : CoefColumns {
  std::vector<double> rss, mss, deviance, sum_log_w;
  std::vector<int> n_used;
};

// glm's columns: deviances, dispersion (summary.glm's), the number of rows with non-zero prior
// weight (n_ok), of rows with a working residual (the logLik's nobs), iterations, convergence,
// the family's AIC term for binomial and Poisson fits (R's family$aic, NaN otherwise), sum(log
// prior weights) over all rows (pairwise order; gaussian fits only, for their AIC), R's warnings
// per group and their kinds.
// With keep_rows, the stacked per-row y, mu, prior weights and trials after family$initialize
// (the AIC of the other families is computed from them).
struct GlmBatchColumns : CoefColumns {
  std::vector<double> deviance, null_deviance, dispersion, aic_family, sum_log_w;
  std::vector<int> n_ok, n_loglik, n_rows, iter, converged, boundary;
  std::vector<std::vector<std::string>> warnings;
  std::vector<std::vector<GlmWarningKind>> warning_kinds;  // one per warning
  std::vector<double> y, mu, prior_weights, n_trials;      // stacked rows (keep_rows)
};

// Static partition of `costs.size()` tasks over `threads` workers: contiguous ranges of roughly
// equal total cost. Returns threads + 1 boundaries (b[t] .. b[t + 1] for worker t).
std::vector<std::size_t> partition_by_cost(const std::vector<double>& costs, int threads);

// Number of worker threads for `tasks` tasks: `threads` <= 0 means the hardware concurrency,
// never more than the number of tasks, at least 1.
int batch_thread_count(int threads, std::size_t tasks);

// NumPy's pairwise summation (np.sum of a contiguous float64 vector): blocks of at most 128
// summed with eight accumulators, larger inputs split in halves (multiples of 8), so a sum
// computed here has the bits of the fit objects' NumPy sums.
double numpy_pairwise_sum(const double* a, Eigen::Index n);

// R's lm.wfit on every group (tolerance tol) and summary.lm's coefficient table: estimate,
// std.error = sqrt(diag(chol2inv(R)) * rss / df), t value; lm()'s checks of the weights and of
// empty groups come first, with R's messages. `intercept`: the formula has an intercept
// (summary.lm's mss is then about the mean). One response column (k == 1).
LmBatchColumns lm_batch_columns(const StackedGroups& groups, double tol, bool intercept,
                                int threads);

// glm.fit on every group with one family and control (`intercept_col[g]`: the intercept's
// position among group g's columns, or -1; `has_offset`: glm's intercept-only refit for the
// null deviance) and summary.glm's coefficient table: std.error = sqrt(diag(chol2inv(R)) *
// dispersion), z or t value (NaN when a free dispersion has no residual df). fixed_dispersion:
// the family's dispersion is 1 (binomial, Poisson).
GlmBatchColumns glm_batch_columns(const StackedGroups& groups, const Family& family,
                                  bool fixed_dispersion, const GlmControl& control, bool intercept,
                                  const std::vector<int>& intercept_col, bool keep_rows,
                                  int threads);

}  // namespace rmodels
