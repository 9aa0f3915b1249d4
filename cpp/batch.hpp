// Grouped ("by") fitting: many independent small fits (one per group) in one call, on a pool of
// std::threads. Each group runs exactly the single-fit kernels of lm.hpp (R's lm.wfit) and
// glm.hpp (R's glm.fit) with one thread, so a group's result is the same whatever the number of
// worker threads and the same as the single fit of that group's rows.
#pragma once
#include <Eigen/Dense>
#include <string>
#include <vector>

#include "glm.hpp"
#include "lm.hpp"

namespace rmodels {

// A read-only strided view of a column-major block (a group's rows of a larger array need not
// be contiguous): element (i, j) is data[i * row_stride + j * col_stride].
struct StridedView {
  const double* data = nullptr;
  Eigen::Index rows = 0, cols = 0;
  Eigen::Index row_stride = 1, col_stride = 0;
  bool empty() const { return data == nullptr; }
  Eigen::MatrixXd copy() const;         // the block as a dense matrix
  Eigen::VectorXd copy_column() const;  // column 0 as a vector (cols must be 1)
};

// One group's fitting problem: X (n x p), Y (n x k) and optional weights / offset (n x 1 views;
// empty for "none").
struct GroupProblem {
  StridedView X, Y, weights, offset;
};

// The outcome for one group: `error` is empty on success, else R's message of the failure
// (the fit is then left default-constructed).
struct LmGroupResult {
  LmFit fit;
  Eigen::MatrixXd qr;  // n_used x p compact QR (R's qr$qr), pivoted columns
  std::string error;
};

struct GlmGroupResult {
  GlmResult fit;
  std::string error;
  bool data_error = false;  // the failure is about the data (R's family$initialize checks)
};

// Static partition of `costs.size()` tasks over `threads` workers: contiguous ranges of roughly
// equal total cost. Returns threads + 1 boundaries (b[t] .. b[t + 1] for worker t).
std::vector<std::size_t> partition_by_cost(const std::vector<double>& costs, int threads);

// Number of worker threads for `tasks` tasks: `threads` <= 0 means the hardware concurrency,
// never more than the number of tasks, at least 1.
int batch_thread_count(int threads, std::size_t tasks);

// lm_wfit for every group (R's lm.wfit on each group's rows; tol as lm's, 1e-7 by default).
std::vector<LmGroupResult> lm_wfit_batch(const std::vector<GroupProblem>& groups, double tol,
                                         int threads);

// glm.fit for every group with one family and control; `intercept` says whether X's column
// `intercept_col` (or -1) is the intercept (same for all groups); `has_offset` whether the
// offsets are given (glm's intercept-only refit for the null deviance then runs, as stats::glm).
std::vector<GlmGroupResult> glm_fit_batch(const std::vector<GroupProblem>& groups,
                                          const Family& family, const GlmControl& control,
                                          bool intercept, const std::vector<int>& intercept_col,
                                          int threads);

}  // namespace rmodels
