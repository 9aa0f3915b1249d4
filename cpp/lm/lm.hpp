// Weighted least squares as R's lm.fit / lm.wfit (QR by dqrdc2's rule, see qr.hpp).
#pragma once
#include <Eigen/Dense>
#include <memory>
#include <string>
#include <vector>

#include "qr_tall.hpp"

namespace rmodels {

// The result of lm_wfit, with R's lm.fit/lm.wfit meaning (n rows in total, n_used of them with
// a non-zero weight, p columns, k responses):
//   coefficients  p x k       original column order, NaN for aliased columns
//   qraux, pivot, rank        the dqrdc2 factor of sqrt(w) X[used rows] (pivot 0-based)
//   effects       n_used x k  Q' sqrt(w) (y - offset) on the used rows (R's fit$effects)
//   residuals     n x k       y - fitted (zero-weight rows included, as lm.wfit)
//   fitted_values n x k       X b + offset, aliased coefficients counted as 0
//   df_residual               n_used - rank
// The compact QR itself is left in the caller's matrix (see lm_wfit_inplace).
struct LmFit {
  Eigen::MatrixXd coefficients;
  Eigen::VectorXd qraux;
  std::vector<int> pivot;
  int rank = 0;
  Eigen::MatrixXd effects;
  Eigen::MatrixXd residuals;
  Eigen::MatrixXd fitted_values;
  int n_used = 0;
  int df_residual = 0;
  // How the factor was obtained: "dqrdc2" (column by column, double), "dqrdc2-r-order" (the
  // same in R's exact operation order, small problems) or "reconstructed" (tall designs, see
  // qr_tall.hpp).
  std::string algorithm;
  // Set when the factor was deferred (lm_wfit_inplace's defer_factor, reconstructed path
  // only): X's first n_used rows still hold sqrt(w) X, `effects` holds only the first `rank`
  // rows, and tall_materialise / tall_hat (qr_tall.hpp) give the factor, the full effects and the
  // hat values from X and this (its yw is sqrt(w) (y - offset) on the used rows).
  std::shared_ptr<TallFactor> deferred;
};

// Whether lm_wfit's automatic choice uses R's exact operation order: small problems
// (2 n p^2 <= 1e8 flops) run dqrdc2/dqrsl with sequential double sums as R's reference BLAS
// does, so coefficients, effects and residuals are R's to the last bit.
bool lm_uses_extended_precision(Eigen::Index n, Eigen::Index p);

// Least squares of Y on X with prior weights and an offset, exactly as R's lm.wfit (lm.fit when
// `weights` is empty):
//   minimise sum_i w_i (y_i - o_i - x_i' b)^2 over the rows with w_i > 0,
// by the pivoted QR of sqrt(w) X (dqrdc2 rule, tolerance `tol`).  Rows with w_i == 0 are set
// aside; their fitted values are x_i' b (aliased b as 0) + o_i.
//
// X (n x p) is OVERWRITTEN: on return its first n_used rows hold the compact QR (R's qr$qr, the
// columns in pivoted order) and the remaining rows are unspecified.  `weights` and `offset` may be
// empty (size 0) for "none".  `extended`: -1 automatic (lm_uses_extended_precision), 0 the
// fast double kernels, 1 R's operation order.  `allow_fast`: large tall designs may take the
// reconstruction path of qr_tall.hpp (same results to ~1e-12).  `defer_factor`: when that path is
// taken, leave X as sqrt(w) X[used rows] and return the small matrices instead of the factor
// (LmFit::deferred). Throws std::invalid_argument with R's messages on bad input.
// The steps (lm.cpp): argument checks, the used rows and their weights, sqrt(w) X and
// sqrt(w) (y - o) on them, the solve (R's operation order, or wls.hpp's step), back to the
// original scale.
LmFit lm_wfit_inplace(Eigen::Ref<Eigen::MatrixXd> X, const Eigen::Ref<const Eigen::MatrixXd>& Y,
                      const Eigen::Ref<const Eigen::VectorXd>& weights,
                      const Eigen::Ref<const Eigen::VectorXd>& offset, double tol, int threads = 0,
                      int extended = -1, bool allow_fast = true, bool defer_factor = false);

// lm_wfit_inplace's reconstructed, deferred path for one response on a model matrix kept by rows
// (design_rows.hpp), without the dense matrix: weights empty or all positive, y and offset
// finite.  Returns false (fit untouched) when the path does not apply (small problems, which run
// R's exact operation order; a column dqrdc2 would move; ill-conditioning): fit the dense matrix
// then.  On success fit.deferred's factor and hat values need the dense sqrt(w) X later.
struct SparseRows;
bool lm_wfit_rows(const SparseRows& rows, const Eigen::Ref<const Eigen::VectorXd>& y,
                  const Eigen::Ref<const Eigen::VectorXd>& weights,
                  const Eigen::Ref<const Eigen::VectorXd>& offset, double tol, LmFit& fit);

// Diagonal of the hat matrix, h_i = ||row i of Q1||^2 with Q1 the first `rank` columns of Q
// (R's lm.influence / hatvalues for the used rows).
Eigen::VectorXd qr_hat(const Eigen::Ref<const Eigen::MatrixXd>& qr,
                       const Eigen::Ref<const Eigen::VectorXd>& qraux, int rank);

// (R11' R11)^{-1} for the leading rank x rank triangle of the compact QR (R's chol2inv(qr$qr)
// as used by summary.lm's cov.unscaled, pivoted order).
Eigen::MatrixXd qr_cov_unscaled(const Eigen::Ref<const Eigen::MatrixXd>& qr, int rank);

}  // namespace rmodels
