// Householder QR with LINPACK dqrdc2's limited column pivoting (R's lm.fit / glm.fit / qr()).
//
// The rule (R's src/appl/dqrdc2.f, re-implemented here):
//   * n0_j = ||x_j|| (original norms; a zero column counts as n0_j = 1), c_j = n0_j.
//   * At step l, while l < k (k = one past the last column not yet moved) and c_l < tol * n0_l,
//     column l is rotated to position p-1 (columns l+1..p-1 shift left) and k decreases.
//   * Unless l is the last row, the reflector u = a / nrm + e_1 (nrm = ||a|| carrying the sign of
//     a_1) is applied to columns l+1..p-1; each current norm is down-dated,
//     c_j <- c_j sqrt(1 - (r_lj / c_j)^2), and recomputed from the column when that factor
//     (squared) drops below 1e-6.
//   * rank = min(k, n).
#include "qr.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

namespace rmodels {

namespace {

// Euclidean norm that neither overflows nor underflows (dnrm2's guarantee); the fast path is
// an ordinary sum of squares.
template <typename Vec>
double safe_norm(const Vec& v) {
  if (v.size() == 0) return 0.0;
  const double s = v.squaredNorm();
  if (std::isfinite(s) && s > 1e-290) return std::sqrt(s);
  if (s == 0.0 && v.cwiseAbs().maxCoeff() == 0.0) return 0.0;
  return v.stableNorm();
}

// Rotate column l of x (and its bookkeeping) to the last position, as dqrdc2 does.
void rotate_to_end(Eigen::Ref<Eigen::MatrixXd> x, int l, std::vector<int>& pivot,
                   Eigen::VectorXd& qraux, Eigen::VectorXd& norm0) {
  const Eigen::Index n = x.rows();
  const int p = static_cast<int>(x.cols());
  if (l == p - 1) return;
  Eigen::VectorXd keep = x.col(l);
  for (int j = l + 1; j < p; ++j) x.col(j - 1) = x.col(j);
  x.col(p - 1) = keep;
  (void)n;
  std::rotate(pivot.begin() + l, pivot.begin() + l + 1, pivot.end());
  const double q = qraux[l], w = norm0[l];
  for (int j = l + 1; j < p; ++j) {
    qraux[j - 1] = qraux[j];
    norm0[j - 1] = norm0[j];
  }
  qraux[p - 1] = q;
  norm0[p - 1] = w;
}

}  // namespace

QRPivoting qr_dqrdc2_unblocked(Eigen::Ref<Eigen::MatrixXd> x, double tol) {
  const int n = static_cast<int>(x.rows());
  const int p = static_cast<int>(x.cols());
  QRPivoting out;
  out.qraux = Eigen::VectorXd::Zero(p);
  out.pivot.resize(p);
  std::iota(out.pivot.begin(), out.pivot.end(), 0);
  Eigen::VectorXd& qraux = out.qraux;  // current norms, then the reflectors' first entries
  Eigen::VectorXd norm0 = Eigen::VectorXd::Ones(p);
  if (n > 0) {
    for (int j = 0; j < p; ++j) {
      qraux[j] = safe_norm(x.col(j));
      norm0[j] = qraux[j] == 0.0 ? 1.0 : qraux[j];
    }
  }
  const int lup = std::min(n, p);
  int k = p;  // columns [k, p) have been moved to the end
  for (int l = 0; l < lup; ++l) {
    while (l < k && qraux[l] < norm0[l] * tol) {
      rotate_to_end(x, l, out.pivot, qraux, norm0);
      --k;
    }
    if (l == n - 1) continue;  // the last row needs no reflector
    const int m = n - l;
    auto a = x.col(l).segment(l, m);
    double nrmxl = safe_norm(a);
    if (nrmxl == 0.0) continue;
    if (a[0] != 0.0) nrmxl = std::copysign(nrmxl, a[0]);
    a *= 1.0 / nrmxl;
    a[0] += 1.0;
    const double u1 = a[0];
    for (int j = l + 1; j < p; ++j) {
      auto c = x.col(j).segment(l, m);
      const double t = -a.dot(c) / u1;
      c += t * a;
      if (qraux[j] != 0.0) {
        const double r = std::abs(c[0]) / qraux[j];
        const double tt = std::max(1.0 - r * r, 0.0);
        if (tt >= 1e-6) {
          qraux[j] *= std::sqrt(tt);
        } else {
          qraux[j] = safe_norm(x.col(j).segment(l + 1, m - 1));
        }
      }
    }
    qraux[l] = u1;
    a[0] = -nrmxl;
  }
  out.rank = std::min(k, n);
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

namespace {

// Apply reflector j (LINPACK storage) to every column of Y: y <- y - u (u'y) / u_1.
inline void apply_reflector(const Eigen::Ref<const Eigen::MatrixXd>& qr, double u1, int j,
                            Eigen::Ref<Eigen::MatrixXd> Y) {
  const Eigen::Index n = qr.rows();
  const Eigen::Index m = n - j - 1;
  auto v = qr.col(j).tail(m);
  for (Eigen::Index c = 0; c < Y.cols(); ++c) {
    auto y = Y.col(c);
    const double t = -(u1 * y[j] + v.dot(y.tail(m))) / u1;
    y[j] += t * u1;
    y.tail(m) += t * v;
  }
}

int n_reflectors(Eigen::Index n, int rank) {
  return static_cast<int>(std::min<Eigen::Index>(rank, std::max<Eigen::Index>(n - 1, 0)));
}

}  // namespace

void qr_qty_inplace(const Eigen::Ref<const Eigen::MatrixXd>& qr,
                    const Eigen::Ref<const Eigen::VectorXd>& qraux, int rank,
                    Eigen::Ref<Eigen::MatrixXd> Y) {
  const int ju = n_reflectors(qr.rows(), rank);
  for (int j = 0; j < ju; ++j) {
    if (qraux[j] != 0.0) apply_reflector(qr, qraux[j], j, Y);
  }
}

void qr_qy_inplace(const Eigen::Ref<const Eigen::MatrixXd>& qr,
                   const Eigen::Ref<const Eigen::VectorXd>& qraux, int rank,
                   Eigen::Ref<Eigen::MatrixXd> Y) {
  const int ju = n_reflectors(qr.rows(), rank);
  for (int j = ju - 1; j >= 0; --j) {
    if (qraux[j] != 0.0) apply_reflector(qr, qraux[j], j, Y);
  }
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

}  // namespace rmodels
