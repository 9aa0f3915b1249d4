// Reconstructing LINPACK's Householder factor of a tall design without running dqrdc2 on it.
//
// For X (n x p, n >> p, full column rank) the Householder QR X = Q [R; 0] with LINPACK's sign
// convention is unique, and so is its compact-WY form Q = I - V T V' (V unit lower trapezoidal).
// With Q1 = X R^{-1}:  [I; 0] - Q1 = V (T V1')  is an LU factorisation without pivoting
// (V1 = top p x p block of V), so V, T and R follow from any R~ with X = Q~ R~ (here the
// Cholesky factor of X'X) once the row signs D of R = D R~ are known; those are chosen during
// the LU exactly as the Householder process chooses them (each pivot 1 + |a| >= 1; Ballard et
// al., "Reconstructing Householder vectors from tall-skinny QR", 2014).  Everything below row p
// is a linear function of the rows of X:
//     qr[i, ] = x_i' C,            C = -R~^{-1} D U^{-1} diag(tau)      (U = T V1')
//     (Q'y)_i = y_i + x_i' v,       v = R~^{-1} D U^{-1} T'(V'y)
//     r_i     = y_i - x_i' b,
// so one pass over X produces the factor (R's qr$qr, qraux), the effects and the residuals.
// The fit needs only the residuals from that pass; when asked to (TallFactor), it keeps C, v and
// R~^{-1} instead of writing the n x p factor, which a later pass over the unchanged X produces
// with the same operations (tall_materialise), and the hat values are then ||x_i' R~^{-1}||^2.
//
// R~ comes from X'X accumulated over the non-zeros of sparse designs (factor dummies; the sums
// end in long double, the Cholesky factor is taken in long double) and from a tall-skinny
// Householder QR of [X y] (row chunks in cache, threads) otherwise.  The path is taken only for
// well-conditioned designs (cond <= 1e4 after scaling the columns to unit norm), so that every
// result agrees with the column-by-column algorithm to ~1e-12; dqrdc2's own rule is run on R~
// (whose columns have the norms and projections of X's columns) to confirm that no column would
// be moved, and a self-check compares the top of Q'y obtained two ways.
#include "qr_tall.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>

#include "design_rows.hpp"
#include "qr_kernels.hpp"
#include "qr_tall_passes.hpp"

namespace rmodels {

using tall::LD;
using tall::MatL;
using tall::VecL;

namespace {

constexpr double kMaxCond = 1e4;

// Upper Cholesky factor of the leading p x p block; false if not positive definite.
bool cholesky_upper(const MatL& G, int p, MatL& R) {
  R = MatL::Zero(p, p);
  for (int j = 0; j < p; ++j) {
    LD s = G(j, j);
    for (int i = 0; i < j; ++i) s -= R(i, j) * R(i, j);
    if (!(s > 0)) return false;
    R(j, j) = std::sqrt(s);
    for (int l = j + 1; l < p; ++l) {
      LD t = G(j, l);
      for (int i = 0; i < j; ++i) t -= R(i, j) * R(i, l);
      R(j, l) = t / R(j, j);
    }
  }
  return true;
}

// The p x p part of the reconstruction: conditioning and dqrdc2's rule checked on R~, the
// coefficients, LINPACK's signs, qraux and reflectors (modified LU), the top p rows of the
// factor and of Q'y, and the matrices C, v that give the rows below p.  Xtop, ytop: the first p
// rows of the (weighted) design and response.  False when the path does not apply.
struct TallAlgebra {
  MatL b;                // p x k coefficients
  VecL tau;              // qraux
  RowMatrixXd C;         // rows below p of the factor: x_i' C
  MatL v;                // effects below p: y_i + x_i' v
  Eigen::MatrixXd top;   // first p rows of the factor
  MatL eff_top, xb_top;  // first p rows of Q'y and of X b
};

// Conditioning, and dqrdc2's own rule on R~ (same column norms and projections as X): true
// when the reconstruction may be used.
bool reconstruction_applies(const MatL& Rt, double tol) {
  const int p = static_cast<int>(Rt.rows());
  constexpr bool kNo = false;
  // Condition number of the column-equilibrated design (R~ columns have X's column norms):
  // units of measurement do not make a design ill-conditioned for this purpose.
  Eigen::MatrixXd Rs = Rt.cast<double>();
  for (int j = 0; j < p; ++j) Rs.col(j) /= Rs.col(j).norm();
  // Squared singular values = eigenvalues of Rs'Rs (a tenth of the cost of a Jacobi SVD);
  // their absolute error, ~p eps lambda_max, is far below lambda_max / kMaxCond^2.
  const Eigen::MatrixXd S = Rs.transpose() * Rs;  // Rs is upper triangular
  Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> eig(S, Eigen::EigenvaluesOnly);
  const auto& ev = eig.eigenvalues();  // ascending
  if (!(ev[0] > 0.0) || ev[p - 1] / ev[0] > kMaxCond * kMaxCond) return kNo;
  MatL Rc = Rt;
  VecL qa;
  std::vector<int> piv;
  if (kernels::dqrdc2<LD>(Rc, static_cast<LD>(tol), qa, piv) != p) return kNo;
  return true;
}

// Modified LU of I - Q~top D (Q~top = Xtop R~^{-1}; signs d chosen so that every pivot is
// 1 + |a| >= 1): unit lower L, tau (qraux) and, above the diagonal of A, the rows of U.
void modified_lu(const MatL& Rt, const MatL& Xtop, VecL& d, VecL& tau, MatL& L, MatL& A) {
  const int p = static_cast<int>(Rt.rows());
  A = Xtop;
  Rt.triangularView<Eigen::Upper>().solveInPlace<Eigen::OnTheRight>(A);  // Q~top
  A = -A;
  d.resize(p);
  tau.resize(p);
  L = MatL::Identity(p, p);
  for (int l = 0; l < p; ++l) {
    const LD a = A(l, l);
    d[l] = a > 0 ? LD(1) : LD(-1);
    tau[l] = LD(1) + d[l] * a;
    for (int i = l + 1; i < p; ++i) L(i, l) = d[l] * A(i, l) / tau[l];
    for (int j = l + 1; j < p; ++j) {
      const LD alj = A(l, j);
      if (alj != 0)
        for (int i = l + 1; i < p; ++i) A(i, j) -= L(i, l) * alj;
    }
  }
}

// Rows above p of the factor: R (rows scaled by d) on and above the diagonal, tau_l V(i, l)
// below.
Eigen::MatrixXd factor_top(const MatL& Rt, const VecL& d, const VecL& tau, const MatL& L) {
  const int p = static_cast<int>(Rt.rows());
  Eigen::MatrixXd top(p, p);
  for (int j = 0; j < p; ++j) {
    for (int i = 0; i <= j; ++i) top(i, j) = static_cast<double>(d[i] * Rt(i, j));
    for (int i = j + 1; i < p; ++i) top(i, j) = static_cast<double>(tau[j] * L(i, j));
  }
  return top;
}

bool tall_algebra(const MatL& Rt, const MatL& zt, const MatL& Xty, const MatL& Xtop,
                  const MatL& ytop, double tol, TallAlgebra& out) {
  const int p = static_cast<int>(Rt.rows());
  constexpr bool kNo = false;
  if (!reconstruction_applies(Rt, tol)) return kNo;

  MatL b = zt;
  Rt.triangularView<Eigen::Upper>().solveInPlace(b);

  // Modified LU of I - Q~top D.
  VecL d, tau;
  MatL L, A;
  modified_lu(Rt, Xtop, d, tau, L, A);
  MatL U = MatL::Zero(p, p);  // U = T V1'
  for (int l = 0; l < p; ++l) {
    U(l, l) = tau[l];
    for (int m = 0; m < l; ++m) U(m, l) = d[l] * A(m, l);
  }
  MatL T = U;
  L.transpose().triangularView<Eigen::UnitUpper>().solveInPlace<Eigen::OnTheRight>(T);
  // M = R~^{-1} D U^{-1}
  MatL M = MatL::Identity(p, p);
  U.triangularView<Eigen::Upper>().solveInPlace(M);
  M = d.asDiagonal() * M;
  Rt.triangularView<Eigen::Upper>().solveInPlace(M);

  // V'y = V1' y_top + V_tail' y_tail, V_tail = -X_tail M.
  const MatL Xty_tail = Xty - Xtop.transpose() * ytop;
  const MatL Vty = L.transpose() * ytop - M.transpose() * Xty_tail;
  const MatL w = T.transpose() * Vty;
  const MatL eff_top = ytop - L * w;
  // Self-check: the top of Q'y must equal D z~.
  {
    const MatL dz = d.asDiagonal() * zt;
    const LD scale = std::max<LD>(dz.cwiseAbs().maxCoeff(), ytop.cwiseAbs().maxCoeff());
    if (!((eff_top - dz).cwiseAbs().maxCoeff() <= LD(1e-9) * std::max<LD>(scale, LD(1e-300))))
      return kNo;
  }
  const RowMatrixXd C = (-(M * tau.asDiagonal())).cast<double>();
  const MatL v = M * w;

  Eigen::MatrixXd top = factor_top(Rt, d, tau, L);

  out.b = std::move(b);
  out.tau = std::move(tau);
  out.C = C;
  out.v = v;
  out.top = std::move(top);
  out.eff_top = eff_top;
  out.xb_top = Xtop * out.b;
  return true;
}

// tall_algebra from a Gram matrix G = [X Y]'[X Y] ((p + k) x (p + k), long double): R~ is its
// Cholesky factor, X'Y its corner.  False when G's leading block is not positive definite or the
// path does not apply.
bool gram_algebra(const MatL& G, int p, const MatL& Xtop, const MatL& ytop, double tol, MatL& Rt,
                  TallAlgebra& alg) {
  if (!cholesky_upper(G, p, Rt)) return false;
  const MatL Xty = G.block(0, p, p, G.cols() - p);
  MatL zt = Xty;
  Rt.triangularView<Eigen::Upper>().transpose().solveInPlace(zt);
  return tall_algebra(Rt, zt, Xty, Xtop, ytop, tol, alg);
}

// Share of non-zeros in the first rows of X (a cheap density estimate).
double leading_density(const Eigen::Ref<const Eigen::MatrixXd>& Xw) {
  const int p = static_cast<int>(Xw.cols());
  const Eigen::Index s = std::min<Eigen::Index>(Xw.rows(), 20000);
  Eigen::Index nz = 0;
  for (int j = 0; j < p; ++j) nz += (Xw.col(j).head(s).array() != 0.0).count();
  return static_cast<double>(nz) / (static_cast<double>(s) * p);
}

// R~ (X = Q~ R~, positive diagonal), z~ = Q~'y and X'y: from X'X accumulated over the non-zeros
// of sparse designs (their rows kept in `store`), from a tall-skinny Householder QR of [X y]
// otherwise. kNonFiniteX when X holds a NaN or Inf, kDeclined when R~ cannot be formed.
TallStatus triangular_factor(const Eigen::Ref<const Eigen::MatrixXd>& Xw,
                             const Eigen::Ref<const Eigen::MatrixXd>& Yw, bool sparse, int nt,
                             double density, std::vector<tall::RowStore>& store, MatL& Rt, MatL& zt,
                             MatL& Xty) {
  constexpr TallStatus kNo = TallStatus::kDeclined;
  const int p = static_cast<int>(Xw.cols());
  const int k = static_cast<int>(Yw.cols());
  if (sparse) {
    bool finite = true;
    const MatL G = tall::gram(Xw, Yw, nt, density, store, finite);
    if (!finite) return TallStatus::kNonFiniteX;
    if (!cholesky_upper(G, p, Rt)) return kNo;
    Xty = G.block(0, p, p, k);
    zt = Xty;
    Rt.triangularView<Eigen::Upper>().transpose().solveInPlace(zt);
  } else {
    for (int j = 0; j < p; ++j)
      if (!((Xw.col(j).array() * 0.0).sum() == 0.0)) return TallStatus::kNonFiniteX;
    if (!tall::tsqr(Xw, Yw, nt, Rt, zt)) return kNo;
    Xty = Rt.transpose() * zt;
  }
  return TallStatus::kDone;
}

}  // namespace

bool lm_tall_reconstruct(Eigen::Ref<Eigen::MatrixXd> Xw,
                         const Eigen::Ref<const Eigen::MatrixXd>& Yw, double tol, int threads,
                         TallFit& out) {
  return lm_tall_reconstruct_checked(Xw, Yw, tol, threads, out) == TallStatus::kDone;
}

TallStatus lm_tall_reconstruct_checked(Eigen::Ref<Eigen::MatrixXd> Xw,
                                       const Eigen::Ref<const Eigen::MatrixXd>& Yw, double tol,
                                       int threads, TallFit& out, TallFactor* deferred) {
  constexpr TallStatus kNo = TallStatus::kDeclined;
  const Eigen::Index n = Xw.rows();
  const int p = static_cast<int>(Xw.cols());
  const int k = static_cast<int>(Yw.cols());
  if (p == 0 || k == 0 || p > 600 || n < 4 * static_cast<Eigen::Index>(p) + 16 ||
      static_cast<double>(n) * p < 2e5)
    return kNo;

  const double density = leading_density(Xw);
  const bool sparse = density <= kRowsMaxDensity;  // design_rows.hpp

  const int nt = tall::thread_count(threads);
  std::vector<tall::RowStore> store;
  MatL Rt, zt, Xty;
  const TallStatus st = triangular_factor(Xw, Yw, sparse, nt, density, store, Rt, zt, Xty);
  if (st != TallStatus::kDone) return st;

  TallAlgebra alg;
  {
    const MatL Xtop = Xw.topRows(p).cast<LD>();
    const MatL ytop = Yw.topRows(p).cast<LD>();
    if (!tall_algebra(Rt, zt, Xty, Xtop, ytop, tol, alg)) return kNo;
  }
  const MatL& b = alg.b;
  const VecL& tau = alg.tau;
  const RowMatrixXd& C = alg.C;
  const Eigen::MatrixXd bd = b.cast<double>(), vd = alg.v.cast<double>();
  Eigen::MatrixXd top = alg.top;
  const MatL ytop = Yw.topRows(p).cast<LD>();
  const MatL& eff_top = alg.eff_top;

  // Outputs.  Rows below p: one pass over the rows of X (the factor written in place unless it
  // is deferred).
  out.rank = p;
  out.pivot.resize(p);
  for (int j = 0; j < p; ++j) out.pivot[j] = j;
  out.qraux = tau.cast<double>();
  out.coef = bd;
  out.effects.resize(deferred != nullptr ? p : n, k);
  out.rsd.resize(n, k);
  const MatL& xb_top = alg.xb_top;
  out.effects.topRows(p) = eff_top.cast<double>();
  out.rsd.topRows(p) = (ytop - xb_top).cast<double>();
  const std::vector<tall::RowStore>* rows = sparse ? &store : nullptr;
  if (deferred != nullptr) {
    tall::row_pass(Xw, Yw, sparse, nt, rows, &bd, &out.rsd, nullptr, nullptr, nullptr);
    deferred->p = p;
    deferred->k = k;
    deferred->nt = nt;
    deferred->sparse = sparse;
    deferred->C = C;
    deferred->v = vd;
    MatL rinv = MatL::Identity(p, p);
    Rt.triangularView<Eigen::Upper>().solveInPlace(rinv);
    deferred->rinv = rinv.cast<double>();
    deferred->top = std::move(top);
  } else {
    tall::row_pass(Xw, Yw, sparse, nt, rows, &bd, &out.rsd, &vd, &out.effects, &C);
    Xw.topRows(p) = top;
  }
  return TallStatus::kDone;
}

TallStatus lm_tall_reconstruct_rows(const SparseRows& rows, const Eigen::VectorXd& sw,
                                    const Eigen::VectorXd& yw, double tol, TallFit& out,
                                    TallFactor& deferred) {
  constexpr TallStatus kNo = TallStatus::kDeclined;
  const Eigen::Index n = rows.n;
  const int p = rows.p;
  if (!rows_shape_ok(n, p) || sw.size() != n || yw.size() != n) return kNo;
  const MatL G = rows_gram(rows, sw, yw);
  MatL Xtop(p, p);
  for (int i = 0; i < p; ++i)
    for (int j = 0; j < p; ++j) Xtop(i, j) = static_cast<LD>(rows.at(i, j) * sw[i]);
  const MatL ytop = yw.head(p).cast<LD>();
  MatL Rt;
  TallAlgebra alg;
  if (!gram_algebra(G, p, Xtop, ytop, tol, Rt, alg)) return kNo;
  const Eigen::VectorXd bd = alg.b.col(0).cast<double>();

  out.rank = p;
  out.pivot.resize(p);
  for (int j = 0; j < p; ++j) out.pivot[j] = j;
  out.qraux = alg.tau.cast<double>();
  out.coef = alg.b.cast<double>();
  out.effects = alg.eff_top.cast<double>();
  out.rsd.resize(n, 1);
  out.rsd.topRows(p) = (ytop - alg.xb_top).cast<double>();
  // Rows below p: residuals y_i - x_i' b over the non-zeros (as the dense path's pass).
  for_tasks(n, kRowChunk, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
    const SparseRows::Piece& pc = rows.piece(b);
    for (Eigen::Index i = std::max<Eigen::Index>(b, p); i < e; ++i) {
      const Eigen::Index li = i - b;
      double fit = 0;
      for (std::uint32_t a = pc.start[li]; a < pc.start[li + 1]; ++a)
        fit += (pc.value[a] * sw[i]) * bd[pc.index[a]];
      out.rsd(i, 0) = yw[i] - fit;
    }
  });
  deferred.p = p;
  deferred.k = 1;
  deferred.nt = tall::thread_count(0);
  deferred.sparse = true;
  deferred.C = alg.C;
  deferred.v = alg.v.cast<double>();
  MatL rinv = MatL::Identity(p, p);
  Rt.triangularView<Eigen::Upper>().solveInPlace(rinv);
  deferred.rinv = rinv.cast<double>();
  deferred.top = alg.top;
  return TallStatus::kDone;
}

bool tall_solve_gram(const Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic>& G,
                     const Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic>& Xtop,
                     const Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic>& ytop,
                     double tol, Eigen::VectorXd& coef, Eigen::MatrixXd& R) {
  const int p = static_cast<int>(Xtop.cols());
  MatL Rt;
  TallAlgebra alg;
  if (G.rows() != p + 1 || !gram_algebra(G, p, Xtop, ytop, tol, Rt, alg)) return false;
  coef = alg.b.col(0).cast<double>();
  if (!coef.allFinite()) return false;
  R = alg.top.triangularView<Eigen::Upper>();
  return true;
}

}  // namespace rmodels
