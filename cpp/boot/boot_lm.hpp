// The case bootstrap of a linear model (car::Boot(method = "case") on an lm, boot's ordinary
// resampling): replicate r refits lm.wfit on the rows indices[r, ] of the model. Each refit is
// R's lm.wfit in R's own operation order (lm.hpp's small-problem path: dqrdc2 and dqrsl with
// sequential sums), so the coefficients are the ones R computes, to the last bit.
//
// The common case (no zero weights, more rows than columns, no column that dqrdc2 would move)
// runs a row-oriented form of the same arithmetic (boot_lm.cpp): the rows of [sqrt(w) X,
// sqrt(w) (y - offset)] are gathered into a per-thread row-major buffer, and each Householder
// step makes two passes over the rows, one for all the dot products and one for all the updates;
// y is carried as one more column, which applies dqrsl's Q'y reflections in the same order with
// the same operands. Every other replicate is refitted by lm_wfit_inplace itself.
#pragma once
#include <Eigen/Dense>
#include <cstdint>
#include <string>
#include <vector>

namespace rmodels {

// The replicates: coefficients R x p (row-major, original column order, NaN for aliased
// columns), each refit's rank, and its status (0 ok, 1 failed with `message`, R's error).
struct BootLmReplicates {
  std::vector<double> coef;
  std::vector<int> rank, status;
  std::vector<std::string> message;
};

// X: n_src x p model matrix; y: the response; weights, offset: empty for none. indices: R x n
// row-major, 0-based rows of X. tol: lm's tolerance. threads <= 0: all cores; the results do
// not depend on the number of threads (each refit runs on one thread).
BootLmReplicates boot_lm_case(const Eigen::Ref<const Eigen::MatrixXd>& X,
                              const Eigen::Ref<const Eigen::VectorXd>& y,
                              const Eigen::Ref<const Eigen::VectorXd>& weights,
                              const Eigen::Ref<const Eigen::VectorXd>& offset,
                              const std::int32_t* indices, std::int64_t R, std::int64_t n,
                              double tol, int threads);

}  // namespace rmodels
