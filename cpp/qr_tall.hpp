// Fast path of lm_wfit for tall, well-conditioned designs: the LINPACK factor is reconstructed
// from a triangular factor R~ of X (Cholesky of X'X over the non-zeros for sparse designs such
// as factor dummies, a tall-skinny QR for dense ones) instead of being computed column by
// column.  See qr_tall.cpp for the mathematics and the conditions under which it is used.
#pragma once
#include <Eigen/Dense>
#include <vector>

namespace rmodels {

struct TallFit {
  Eigen::VectorXd qraux;
  std::vector<int> pivot;
  int rank = 0;
  Eigen::MatrixXd coef;     // p x k, pivoted (= original) order
  Eigen::MatrixXd effects;  // n x k, Q'y
  Eigen::MatrixXd rsd;      // n x k, weighted residuals y - X b
};

enum class TallStatus { kDone, kDeclined, kNonFiniteX };

// Tries the reconstruction path on Xw (n x p, the weighted design, overwritten by the compact
// LINPACK QR on success) and Yw (n x k, the weighted response).  Returns kDeclined, with Xw
// untouched, when the path does not apply (small or wide X, a column dqrdc2 would move,
// condition number above 1e4, a failed self-check); the caller then runs dqrdc2 itself.
// X is checked for NaN/Inf on the way: kNonFiniteX (X untouched) when one is found; the caller
// must have checked Yw.
TallStatus lm_tall_reconstruct_checked(Eigen::Ref<Eigen::MatrixXd> Xw,
                                       const Eigen::Ref<const Eigen::MatrixXd>& Yw, double tol,
                                       int threads, TallFit& out);

// The same, true exactly when the factor was produced (kDone); false leaves Xw untouched.
bool lm_tall_reconstruct(Eigen::Ref<Eigen::MatrixXd> Xw,
                         const Eigen::Ref<const Eigen::MatrixXd>& Yw, double tol, int threads,
                         TallFit& out);

}  // namespace rmodels
