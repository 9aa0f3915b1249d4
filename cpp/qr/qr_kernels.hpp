// The dqrdc2 / dqrsl kernels as templates on the scalar type: `double` for the ordinary path and
// `long double` (64-bit mantissa) for the extended-precision path lm_wfit takes on small
// problems.  See qr.hpp for the storage convention and qr.cpp for the rule.
#pragma once
#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace rmodels {
namespace kernels {

template <typename S>
using Mat = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
template <typename S>
using Vec = Eigen::Matrix<S, Eigen::Dynamic, 1>;

// Euclidean norm that neither overflows nor underflows (dnrm2's guarantee); the fast path is an
// ordinary sum of squares.
template <typename Derived>
typename Derived::Scalar safe_norm(const Eigen::MatrixBase<Derived>& v) {
  using S = typename Derived::Scalar;
  if (v.size() == 0) return S(0);
  const S s = v.squaredNorm();
  if (std::isfinite(s) && s > S(1e-290)) return std::sqrt(s);
  if (s == S(0) && v.cwiseAbs().maxCoeff() == S(0)) return S(0);
  return v.stableNorm();
}

// LINPACK dqrdc2 on x (n x p, overwritten by the compact QR).  Returns the rank; qraux and pivot
// (0-based) are filled.
template <typename S>
int dqrdc2(Eigen::Ref<Mat<S>> x, S tol, Vec<S>& qraux, std::vector<int>& pivot) {
  const int n = static_cast<int>(x.rows());
  const int p = static_cast<int>(x.cols());
  qraux = Vec<S>::Zero(p);
  pivot.resize(p);
  std::iota(pivot.begin(), pivot.end(), 0);
  Vec<S> norm0 = Vec<S>::Ones(p);  // original norms (zero column: 1)
  if (n > 0) {
    for (int j = 0; j < p; ++j) {
      qraux[j] = safe_norm(x.col(j));
      norm0[j] = qraux[j] == S(0) ? S(1) : qraux[j];
    }
  }
  Vec<S> keep(n);
  const int lup = std::min(n, p);
  int k = p;  // columns [k, p) have been moved to the end
  for (int l = 0; l < lup; ++l) {
    while (l < k) {
      if (!(qraux[l] < norm0[l] * tol)) break;
      // Rotate column l to the end: l+1..p-1 shift left (contiguous in column-major storage).
      if (l < p - 1) {
        keep = x.col(l);
        for (int j = l + 1; j < p; ++j) x.col(j - 1) = x.col(j);
        x.col(p - 1) = keep;
        std::rotate(pivot.begin() + l, pivot.begin() + l + 1, pivot.end());
        const S q = qraux[l], w = norm0[l];
        for (int j = l + 1; j < p; ++j) {
          qraux[j - 1] = qraux[j];
          norm0[j - 1] = norm0[j];
        }
        qraux[p - 1] = q;
        norm0[p - 1] = w;
      }
      --k;
    }
    if (l == n - 1) continue;  // the last row needs no reflector
    const int m = n - l;
    auto a = x.col(l).segment(l, m);
    S nrmxl = safe_norm(a);
    if (nrmxl == S(0)) continue;
    if (a[0] != S(0)) nrmxl = std::copysign(nrmxl, a[0]);
    a *= S(1) / nrmxl;
    a[0] += S(1);
    const S u1 = a[0];
    for (int j = l + 1; j < p; ++j) {
      auto c = x.col(j).segment(l, m);
      const S t = -a.dot(c) / u1;
      c += t * a;
      if (qraux[j] != S(0)) {
        const S r = std::abs(c[0]) / qraux[j];
        const S tt = std::max(S(1) - r * r, S(0));
        if (tt >= S(1e-6)) {
          qraux[j] *= std::sqrt(tt);
        } else {
          qraux[j] = safe_norm(x.col(j).segment(l + 1, m - 1));
        }
      }
    }
    qraux[l] = u1;
    a[0] = -nrmxl;
  }
  return std::min(k, n);
}

// The number of reflectors dqrsl applies: min(rank, n - 1).
inline int n_reflectors(Eigen::Index n, int rank) {
  return static_cast<int>(std::min<Eigen::Index>(rank, std::max<Eigen::Index>(n - 1, 0)));
}

// Y <- H_j Y for LINPACK reflector j: y <- y - u (u'y) / u_1, u_1 = qraux[j].
template <typename S, typename QR, typename YT>
void apply_reflector(const QR& qr, S u1, int j, YT& Y) {
  const Eigen::Index n = qr.rows();
  const Eigen::Index m = n - j - 1;
  auto v = qr.col(j).tail(m);
  for (Eigen::Index c = 0; c < Y.cols(); ++c) {
    auto y = Y.col(c);
    const S t = -(u1 * y[j] + v.dot(y.tail(m))) / u1;
    y[j] += t * u1;
    y.tail(m) += t * v;
  }
}

// Y <- Q'Y (transpose = true, R's qr.qty) or Y <- QY (R's qr.qy).
template <typename S, typename QR, typename QA, typename YT>
void apply_q(const QR& qr, const QA& qraux, int rank, YT& Y, bool transpose) {
  const int ju = n_reflectors(qr.rows(), rank);
  if (transpose) {
    for (int j = 0; j < ju; ++j)
      if (qraux[j] != S(0)) apply_reflector<S>(qr, S(qraux[j]), j, Y);
  } else {
    for (int j = ju - 1; j >= 0; --j)
      if (qraux[j] != S(0)) apply_reflector<S>(qr, S(qraux[j]), j, Y);
  }
}

}  // namespace kernels
}  // namespace rmodels
