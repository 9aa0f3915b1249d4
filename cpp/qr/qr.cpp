// Householder QR with LINPACK dqrdc2's limited column pivoting (R's lm.fit / glm.fit / qr()).
//
// The rule (R's src/appl/dqrdc2.f, re-implemented in qr_kernels.hpp):
//   * n0_j = ||x_j|| (original norms; a zero column counts as n0_j = 1), c_j = n0_j.
//   * At step l, while l < k (k = one past the last column not yet moved) and c_l < tol * n0_l,
//     column l is rotated to position p-1 (columns l+1..p-1 shift left) and k decreases.
//   * Unless l is the last row, the reflector u = a / nrm + e_1 (nrm = ||a|| carrying the sign of
//     a_1) is applied to columns l+1..p-1; each current norm is down-dated,
//     c_j <- c_j sqrt(1 - (r_lj / c_j)^2), and recomputed from the column when that factor
//     (squared) drops below 1e-6.
//   * rank = min(k, n).
#include "qr.hpp"

#include <limits>

#include "qr_kernels.hpp"

namespace rmodels {

QRPivoting qr_dqrdc2_unblocked(Eigen::Ref<Eigen::MatrixXd> x, double tol) {
  QRPivoting out;
  out.rank = kernels::dqrdc2<double>(x, tol, out.qraux, out.pivot);
  return out;
}

QRPivoting qr_dqrdc2_inplace(Eigen::Ref<Eigen::MatrixXd> X, double tol, int threads) {
  (void)threads;
  return qr_dqrdc2_unblocked(X, tol);
}

PivotedQR qr_dqrdc2(const Eigen::Ref<const Eigen::MatrixXd>& X, double tol) {
  PivotedQR out;
  out.qr = X;
  QRPivoting piv = qr_dqrdc2_inplace(out.qr, tol);
  out.qraux = std::move(piv.qraux);
  out.pivot = std::move(piv.pivot);
  out.rank = piv.rank;
  return out;
}

void qr_qty_inplace(const Eigen::Ref<const Eigen::MatrixXd>& qr,
                    const Eigen::Ref<const Eigen::VectorXd>& qraux, int rank,
                    Eigen::Ref<Eigen::MatrixXd> Y) {
  kernels::apply_q<double>(qr, qraux, rank, Y, true);
}

void qr_qy_inplace(const Eigen::Ref<const Eigen::MatrixXd>& qr,
                   const Eigen::Ref<const Eigen::VectorXd>& qraux, int rank,
                   Eigen::Ref<Eigen::MatrixXd> Y) {
  kernels::apply_q<double>(qr, qraux, rank, Y, false);
}

Eigen::MatrixXd qr_solve_r(const Eigen::Ref<const Eigen::MatrixXd>& qr, int rank,
                           const Eigen::Ref<const Eigen::MatrixXd>& QtY) {
  Eigen::MatrixXd b = QtY.topRows(rank);
  qr.topLeftCorner(rank, rank).triangularView<Eigen::Upper>().solveInPlace(b);
  return b;
}

Eigen::MatrixXd qr_resid_from_qty(const Eigen::Ref<const Eigen::MatrixXd>& qr,
                                  const Eigen::Ref<const Eigen::VectorXd>& qraux, int rank,
                                  const Eigen::Ref<const Eigen::MatrixXd>& QtY) {
  Eigen::MatrixXd r = QtY;
  r.topRows(rank).setZero();
  qr_qy_inplace(qr, qraux, rank, r);
  return r;
}

Eigen::MatrixXd qr_qty(const PivotedQR& qr, const Eigen::Ref<const Eigen::MatrixXd>& Y) {
  Eigen::MatrixXd out = Y;
  qr_qty_inplace(qr.qr, qr.qraux, qr.rank, out);
  return out;
}

Eigen::MatrixXd qr_coef(const PivotedQR& qr, const Eigen::Ref<const Eigen::MatrixXd>& Y) {
  const Eigen::Index p = qr.qr.cols();
  Eigen::MatrixXd qty = qr_qty(qr, Y);
  Eigen::MatrixXd coef =
      Eigen::MatrixXd::Constant(p, Y.cols(), std::numeric_limits<double>::quiet_NaN());
  coef.topRows(qr.rank) = qr_solve_r(qr.qr, qr.rank, qty);
  return coef;
}

Eigen::MatrixXd qr_coef(const Eigen::Ref<const Eigen::MatrixXd>& qr,
                        const Eigen::Ref<const Eigen::VectorXd>& qraux, int rank,
                        const Eigen::Ref<const Eigen::MatrixXd>& Y) {
  Eigen::MatrixXd qty = Y;
  Eigen::MatrixXd coef =
      Eigen::MatrixXd::Constant(qr.cols(), Y.cols(), std::numeric_limits<double>::quiet_NaN());
  qr_qty_inplace(qr, qraux, rank, qty);
  coef.topRows(rank) = qr_solve_r(qr, rank, qty);
  return coef;
}

}  // namespace rmodels
