// Householder QR with R's limited column pivoting (LINPACK dqrdc2), the core of lm and glm.
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

// dqrdc2's rule: a column whose remaining norm falls below tol * (its original norm) is moved
// to the last position; R's lm uses tol = 1e-7, glm.fit min(1e-7, epsilon / 1000).
PivotedQR qr_dqrdc2(const Eigen::Ref<const Eigen::MatrixXd>& X, double tol);

// Q'y for each column of Y, and the least-squares coefficients (length p, pivoted order,
// entries beyond rank set to NaN) as R's dqrls gives them.
Eigen::MatrixXd qr_qty(const PivotedQR& qr, const Eigen::Ref<const Eigen::MatrixXd>& Y);
Eigen::MatrixXd qr_coef(const PivotedQR& qr, const Eigen::Ref<const Eigen::MatrixXd>& Y);

}  // namespace rmodels
