// Grouped fitting on a static thread pool (see batch.hpp).
#include "batch.hpp"

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <thread>

namespace rmodels {

Eigen::MatrixXd StridedView::copy() const {
  Eigen::MatrixXd out(rows, cols);
  for (Eigen::Index j = 0; j < cols; ++j) {
    const double* c = data + j * col_stride;
    for (Eigen::Index i = 0; i < rows; ++i) out(i, j) = c[i * row_stride];
  }
  return out;
}

Eigen::VectorXd StridedView::copy_column() const {
  Eigen::VectorXd out(rows);
  for (Eigen::Index i = 0; i < rows; ++i) out[i] = data[i * row_stride];
  return out;
}

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

// Runs task(i) for i in [0, m) on `threads` workers, each owning a fixed contiguous range.
template <class Task>
void run_static(const std::vector<double>& costs, int threads, Task task) {
  const std::vector<std::size_t> b = partition_by_cost(costs, threads);
  auto work = [&](int t) {
    for (std::size_t i = b[t]; i < b[t + 1]; ++i) task(i);
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

std::vector<double> group_costs(const std::vector<GroupProblem>& groups) {
  std::vector<double> c(groups.size());
  for (std::size_t i = 0; i < groups.size(); ++i) {
    const double n = static_cast<double>(groups[i].X.rows);
    const double p = static_cast<double>(groups[i].X.cols);
    c[i] = n * (p + 1) * (p + 1) + 64;
  }
  return c;
}

}  // namespace

std::vector<LmGroupResult> lm_wfit_batch(const std::vector<GroupProblem>& groups, double tol,
                                         int threads) {
  std::vector<LmGroupResult> out(groups.size());
  const int nt = batch_thread_count(threads, groups.size());
  run_static(group_costs(groups), nt, [&](std::size_t g) {
    const GroupProblem& gp = groups[g];
    LmGroupResult& r = out[g];
    try {
      Eigen::MatrixXd X = gp.X.copy();
      const Eigen::MatrixXd Y = gp.Y.copy();
      const Eigen::VectorXd w = gp.weights.empty() ? Eigen::VectorXd() : gp.weights.copy_column();
      const Eigen::VectorXd o = gp.offset.empty() ? Eigen::VectorXd() : gp.offset.copy_column();
      // One thread per group: the group's numbers never depend on the pool size.
      r.fit = lm_wfit_inplace(X, Y, w, o, tol, /*threads=*/1);
      r.qr = X.topRows(r.fit.n_used);
    } catch (const std::exception& e) {
      r.error = e.what();
    }
  });
  return out;
}

std::vector<GlmGroupResult> glm_fit_batch(const std::vector<GroupProblem>& groups,
                                          const Family& family, const GlmControl& control,
                                          bool intercept, const std::vector<int>& intercept_col,
                                          int threads) {
  if (intercept_col.size() != groups.size())
    throw std::invalid_argument("one intercept column per group is needed");
  std::vector<GlmGroupResult> out(groups.size());
  const int nt = batch_thread_count(threads, groups.size());
  run_static(group_costs(groups), nt, [&](std::size_t g) {
    const GroupProblem& gp = groups[g];
    GlmGroupResult& r = out[g];
    try {
      const Eigen::Index n = gp.X.rows;
      const Eigen::MatrixXd X = gp.X.copy();
      const Eigen::MatrixXd Y = gp.Y.copy();
      const Eigen::VectorXd w =
          gp.weights.empty() ? Eigen::VectorXd::Ones(n) : gp.weights.copy_column();
      const bool has_offset = !gp.offset.empty();
      const Eigen::VectorXd o = has_offset ? gp.offset.copy_column() : Eigen::VectorXd::Zero(n);
      r.fit =
          glm_fit(X, Y, w, o, has_offset, family, GlmStart{}, control, intercept, intercept_col[g]);
    } catch (const GlmError& e) {
      r.error = e.what();
      r.data_error = e.data_error;
    } catch (const std::exception& e) {
      r.error = e.what();
    }
  });
  return out;
}

}  // namespace rmodels
