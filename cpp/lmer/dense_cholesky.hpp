// Dense Cholesky kernels of the blocked PLS factor (lmer.hpp): the factor of the dense block of
// terms 2..K (plain or tiled, optionally on two threads) and the small per-level blocks of a
// vector-valued first term. Results never depend on the number of threads.
#pragma once

#include <Eigen/Dense>
#include <vector>

namespace rmodels {
namespace lmer {

// Largest k of a first term factored by factor_small_block (stack buffers of k x k).
constexpr int kSmallBlock = 8;

// Right-looking blocked Cholesky A = L L' in place (lower triangle read and written).
bool dense_cholesky_lower(Eigen::MatrixXd& A, int threads);

// The same for a matrix whose factor has zero tiles of size b: below[K] lists the tiles I > K
// of tile column K that can be nonzero; the other tiles of the lower triangle hold zeros.
bool tiled_cholesky_lower(Eigen::MatrixXd& A, int b, const std::vector<std::vector<int>>& below,
                          int threads);

// One level of a vector-valued first term (k <= kSmallBlock): L = chol(T'AT + I) and
// L31 = A31 T L^-T, column-major. Returns log|L|^2.
double factor_small_block(const double* A, const double* A31, int k, int p1, const double* T,
                          double* L, double* L31);

}  // namespace lmer
}  // namespace rmodels
