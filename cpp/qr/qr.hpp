// Householder QR with R's limited column pivoting (LINPACK dqrdc2), the core of lm and glm.
//
// Storage follows LINPACK exactly (so that R's qr$qr / qr$qraux are reproduced): for each
// reflector l (0-based) the vector u_l has u_l[l] = qraux[l] and u_l[i] = qr(i, l) for i > l;
// the reflector is H_l = I - u_l u_l' / u_l[l].  R's diagonal is r_ll = -sign(a) * ||a||, where a
// is the pivot column's remaining part and sign(0) = +1.  In LAPACK terms tau_l = qraux[l] and
// v_l = u_l / qraux[l].
#pragma once
#include <Eigen/Dense>
#include <vector>

namespace rmodels {

// Result of qr_dqrdc2(X, tol): the compact QR of X with aliased columns moved to the end.
//   qr     n x p: R in the upper triangle, Householder vectors below (as R's qr$qr)
//   qraux  p    : as LINPACK's qraux
//   pivot  p    : 0-based original column index of each pivoted column (R's qr$pivot - 1)
//   rank        : number of columns not moved (R's qr$rank)
struct PivotedQR {
  Eigen::MatrixXd qr;
  Eigen::VectorXd qraux;
  std::vector<int> pivot;
  int rank = 0;
};

// The pivoting outcome of an in-place factorisation (the factor itself stays in the caller's
// matrix).
struct QRPivoting {
  Eigen::VectorXd qraux;
  std::vector<int> pivot;
  int rank = 0;
};

// dqrdc2's rule: a column whose remaining norm falls below tol * (its original norm) is moved
// to the last position; R's lm uses tol = 1e-7, glm.fit min(1e-7, epsilon / 1000).
PivotedQR qr_dqrdc2(const Eigen::Ref<const Eigen::MatrixXd>& X, double tol);

// The same factorisation, overwriting X with the compact QR (columns permuted as `pivot`),
// column by column as LINPACK does (`threads` is reserved and currently unused).  The fast
// path for large tall designs is part of lm_wfit (qr_tall.hpp), which needs the response to
// produce everything in one pass.
QRPivoting qr_dqrdc2_inplace(Eigen::Ref<Eigen::MatrixXd> X, double tol, int threads = 0);

// Plain column-by-column LINPACK algorithm (the reference the blocked code is tested against).
QRPivoting qr_dqrdc2_unblocked(Eigen::Ref<Eigen::MatrixXd> X, double tol);

// Q'y for each column of Y, and the least-squares coefficients (length p, pivoted order,
// entries beyond rank set to NaN) as R's dqrls gives them.
Eigen::MatrixXd qr_qty(const PivotedQR& qr, const Eigen::Ref<const Eigen::MatrixXd>& Y);
Eigen::MatrixXd qr_coef(const PivotedQR& qr, const Eigen::Ref<const Eigen::MatrixXd>& Y);

// The same operations on a compact factor held elsewhere (qr n x p, qraux p, rank).
//   qr_qty_inplace: Y <- Q'Y   (R's qr.qty; uses the first min(rank, n-1) reflectors, as dqrsl)
//   qr_qy_inplace : Y <- Q Y   (R's qr.qy)
//   qr_solve_r    : the rank x k solution of R11 b = QtY[0:rank]
void qr_qty_inplace(const Eigen::Ref<const Eigen::MatrixXd>& qr,
                    const Eigen::Ref<const Eigen::VectorXd>& qraux, int rank,
                    Eigen::Ref<Eigen::MatrixXd> Y);
void qr_qy_inplace(const Eigen::Ref<const Eigen::MatrixXd>& qr,
                   const Eigen::Ref<const Eigen::VectorXd>& qraux, int rank,
                   Eigen::Ref<Eigen::MatrixXd> Y);
Eigen::MatrixXd qr_solve_r(const Eigen::Ref<const Eigen::MatrixXd>& qr, int rank,
                           const Eigen::Ref<const Eigen::MatrixXd>& QtY);

// Least-squares coefficients of Y in PIVOTED order (p x k), NaN beyond rank (dqrls' b; R's
// qr.coef before it reorders).
Eigen::MatrixXd qr_coef(const Eigen::Ref<const Eigen::MatrixXd>& qr,
                        const Eigen::Ref<const Eigen::VectorXd>& qraux, int rank,
                        const Eigen::Ref<const Eigen::MatrixXd>& Y);

// Residuals of the least-squares fit from Q'y (R's dqrsl job "r"): Q [0; (Q'y)[rank:n]].
Eigen::MatrixXd qr_resid_from_qty(const Eigen::Ref<const Eigen::MatrixXd>& qr,
                                  const Eigen::Ref<const Eigen::VectorXd>& qraux, int rank,
                                  const Eigen::Ref<const Eigen::MatrixXd>& QtY);

}  // namespace rmodels
