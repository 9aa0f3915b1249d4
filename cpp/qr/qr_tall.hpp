// Fast path of lm_wfit for tall, well-conditioned designs: the LINPACK factor is reconstructed
// from a triangular factor R~ of X (Cholesky of X'X over the non-zeros for sparse designs such
// as factor dummies, a tall-skinny QR for dense ones) instead of being computed column by
// column.  See qr_tall.cpp for the mathematics and the conditions under which it is used.
#pragma once
#include <Eigen/Dense>
#include <vector>

namespace rmodels {

using RowMatrixXd = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// What is needed to produce, later, the parts of a reconstructed fit that are linear in the rows
// of X (see qr_tall.cpp): for row i >= p of the weighted design,
//     qr[i, ] = x_i' C,   effects_i = y_i + x_i' v,   and for every row  Q1[i, ] = x_i' Rinv D,
// so LINPACK's n x p factor, the effects below row p and the hat values come from one pass over
// the (unchanged) design.  The passes reproduce the arithmetic of the fit-time pass operation
// for operation, so a deferred factor is bit-identical to one written at fit time.
struct TallFactor {
  int p = 0, k = 0;
  int nt = 1;           // threads of the row passes (the dense path's row blocks depend on it)
  bool sparse = true;   // rows taken as sparse (non-zeros only) or as dense blocks
  RowMatrixXd C;        // p x p upper triangular
  Eigen::MatrixXd v;    // p x k
  RowMatrixXd rinv;     // p x p upper triangular, R~^{-1} (R = D R~)
  Eigen::MatrixXd top;  // p x p, the first p rows of the compact factor
  Eigen::MatrixXd yw;   // n x k, the weighted response the fit was computed from
};

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
//
// With `deferred` non-null the factor is not written: Xw is left unchanged, out.effects holds
// only the first p rows of Q'y, and *deferred receives C, v, R~^{-1}, the top p rows of the
// factor and the thread count (its `yw` is left for the caller to fill); tall_materialise and
// tall_hat then produce the rest from Xw, which must not change in between.
TallStatus lm_tall_reconstruct_checked(Eigen::Ref<Eigen::MatrixXd> Xw,
                                       const Eigen::Ref<const Eigen::MatrixXd>& Yw, double tol,
                                       int threads, TallFit& out, TallFactor* deferred = nullptr);

// The same for one response on a model matrix kept by rows (design_rows.hpp), weighted by sw
// (sqrt of the weights, all positive; ones when unweighted): X'X is accumulated over the rows'
// non-zeros, yw = sw (y - offset).  Always deferred: out.effects holds the first p rows of Q'y,
// out.rsd all n weighted residuals, and `deferred` (its yw left to the caller) produces the
// factor and the hat values later from the dense sqrt(w) X.  kDeclined when the path does not
// apply (the caller fits the dense matrix).
struct SparseRows;
TallStatus lm_tall_reconstruct_rows(const SparseRows& rows, const Eigen::VectorXd& sw,
                                    const Eigen::VectorXd& yw, double tol, TallFit& out,
                                    TallFactor& deferred);

// One least-squares step from its Gram matrix G = [X y]'[X y] ((p + 1) x (p + 1), long double;
// glm's weighted steps) and the first p rows of X and y, under the conditions of the
// reconstruction path: coef (p) and LINPACK's R factor (p x p, upper, its row signs included).
// False when the path does not apply.
bool tall_solve_gram(const Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic>& G,
                     const Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic>& Xtop,
                     const Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic>& ytop,
                     double tol, Eigen::VectorXd& coef, Eigen::MatrixXd& R);

// Writes the deferred compact factor over Xw (n x p, the design the fit was computed from: rows
// below p become x_i' C, the top p rows f.top) and returns Q'y (n x k: f.yw's rows below p plus
// x_i' v, the top p rows `effects_top`), bit-identical to what the fit would have written.
Eigen::MatrixXd tall_materialise(const TallFactor& f, Eigen::Ref<Eigen::MatrixXd> Xw,
                                 const Eigen::Ref<const Eigen::MatrixXd>& effects_top);

// Hat values h_i = ||x_i' R~^{-1}||^2 (the squared row norms of Q1 = X R^{-1}) from the
// unchanged design Xw, one pass over its rows.
Eigen::VectorXd tall_hat(const TallFactor& f, const Eigen::Ref<const Eigen::MatrixXd>& Xw);

// The same, true exactly when the factor was produced (kDone); false leaves Xw untouched.
bool lm_tall_reconstruct(Eigen::Ref<Eigen::MatrixXd> Xw,
                         const Eigen::Ref<const Eigen::MatrixXd>& Yw, double tol, int threads,
                         TallFit& out);

}  // namespace rmodels
