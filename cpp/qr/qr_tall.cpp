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
#ifdef __AVX2__
#include <immintrin.h>
#endif
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <thread>

#include "design_rows.hpp"
#include "qr_kernels.hpp"

namespace rmodels {

namespace {

using LD = long double;
using MatL = kernels::Mat<LD>;
using VecL = kernels::Vec<LD>;

constexpr Eigen::Index kBlock = 256;
constexpr double kMaxCond = 1e4;

int thread_count(int threads) {
  if (threads > 0) return threads;
  const unsigned h = std::thread::hardware_concurrency();
  return h == 0 ? 1 : static_cast<int>(std::min(h, 8u));
}

// Run f(t, begin, end) on nt contiguous row ranges of [lo, hi).
template <typename F>
void parallel_rows(Eigen::Index lo, Eigen::Index hi, int nt, F&& f) {
  if (nt <= 1 || hi - lo < 4 * kBlock) {
    f(0, lo, hi);
    return;
  }
  std::vector<std::thread> pool;
  const Eigen::Index chunk = (hi - lo + nt - 1) / nt;
  for (int t = 0; t < nt; ++t) {
    const Eigen::Index b = lo + t * chunk, e = std::min(hi, b + chunk);
    if (b >= e) break;
    pool.emplace_back([&f, t, b, e] { f(t, b, e); });
  }
  for (auto& th : pool) th.join();
}

// The non-zero entries of a block of rows, row by row, columns ascending.
struct BlockRows {
  int p = 0;
  std::vector<int> count, index;
  std::vector<double> value;
  bool finite = true;  // no NaN/Inf seen so far
  explicit BlockRows(int p_) : p(p_), count(kBlock), index(kBlock * p_), value(kBlock * p_) {}
  void gather(const Eigen::Ref<const Eigen::MatrixXd>& X, Eigen::Index r0, Eigen::Index m) {
    std::fill(count.begin(), count.begin() + m, 0);
    const bool more = r0 + 2 * m <= X.rows();
    for (int j = 0; j < p; ++j) {
      const double* col = X.col(j).data() + r0;
      if (more)  // the same column of the next block: 93 short streams defeat the prefetcher
        for (Eigen::Index i = 0; i < m; i += 8) __builtin_prefetch(col + m + i);
      Eigen::Index i = 0;
#ifdef __AVX2__
      // Four rows at a time: a comparison mask finds the non-zeros, so mostly-zero columns
      // (factor dummies) cost one compare per four rows.
      const __m256d zero = _mm256_setzero_pd();
      __m256d bad = zero;  // v * 0 accumulates NaN for NaN/Inf entries
      for (; i + 4 <= m; i += 4) {
        const __m256d v = _mm256_loadu_pd(col + i);
        bad = _mm256_add_pd(bad, _mm256_mul_pd(v, zero));
        int mask = _mm256_movemask_pd(_mm256_cmp_pd(v, zero, _CMP_NEQ_UQ));
        while (mask != 0) {
          const int b = __builtin_ctz(mask);
          mask &= mask - 1;
          const Eigen::Index r = i + b;
          const int c = count[r]++;
          index[r * p + c] = j;
          value[r * p + c] = col[r];
        }
      }
      if (_mm256_movemask_pd(_mm256_cmp_pd(bad, bad, _CMP_UNORD_Q)) != 0) finite = false;
#endif
      for (; i < m; ++i) {
        const double v = col[i];
        if (!(v * 0.0 == 0.0)) finite = false;
        if (v != 0.0) {
          const int c = count[i]++;
          index[i * p + c] = j;
          value[i * p + c] = v;
        }
      }
    }
  }
};

// The non-zeros of a range of rows (compressed rows), kept from the X'X pass for the output pass.
struct RowStore {
  std::vector<std::uint32_t> start{0};
  std::vector<std::uint16_t> index;
  std::vector<double> value;
};

// [X Y]'[X Y] in long double.  Rows are summed in double over blocks of kBlock rows, blocks in
// double over groups of kGroup blocks, groups in long double: the rounding errors of the groups
// are independent, so the relative error of the total is about eps * sqrt(kBlock) / sqrt(#groups).
MatL gram(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::MatrixXd>& Y,
          int nt, double density, std::vector<RowStore>& store, bool& finite) {
  constexpr int kGroup = 16;
  const int p = static_cast<int>(X.cols()), k = static_cast<int>(Y.cols()), m = p + k;
  std::vector<MatL> part(nt, MatL::Zero(m, m));
  std::vector<char> ok(nt, 1);
  store.assign(nt, RowStore());
  parallel_rows(0, X.rows(), nt, [&](int t, Eigen::Index b, Eigen::Index e) {
    BlockRows rows(p);
    RowStore& st = store[t];
    st.start.reserve(e - b + 1);
    const auto guess =
        static_cast<std::size_t>(1.1 * density * static_cast<double>(e - b) * p) + 1024;
    st.index.reserve(guess);
    st.value.reserve(guess);
    Eigen::MatrixXd blk(m, m), grp = Eigen::MatrixXd::Zero(m, m);
    int in_group = 0;
    for (Eigen::Index r0 = b; r0 < e; r0 += kBlock) {
      const Eigen::Index len = std::min(kBlock, e - r0);
      rows.gather(X, r0, len);
      blk.setZero();
      double* g = blk.data();
      for (Eigen::Index i = 0; i < len; ++i) {
        const int c = rows.count[i];
        const int* ix = &rows.index[i * p];
        const double* vx = &rows.value[i * p];
        for (int a = 0; a < c; ++a) {
          st.index.push_back(static_cast<std::uint16_t>(ix[a]));
          st.value.push_back(vx[a]);
        }
        st.start.push_back(static_cast<std::uint32_t>(st.index.size()));
        for (int a = 0; a < c; ++a) {
          const double va = vx[a];
          double* ga = g + ix[a];
          for (int q = a; q < c; ++q) ga[static_cast<Eigen::Index>(ix[q]) * m] += va * vx[q];
          for (int yc = 0; yc < k; ++yc)
            ga[static_cast<Eigen::Index>(p + yc) * m] += va * Y(r0 + i, yc);
        }
        for (int yc = 0; yc < k; ++yc) {
          const double vy = Y(r0 + i, yc);
          for (int yd = yc; yd < k; ++yd)
            g[p + yc + static_cast<Eigen::Index>(p + yd) * m] += vy * Y(r0 + i, yd);
        }
      }
      if (!rows.finite) {
        ok[t] = 0;
        return;
      }
      grp += blk;
      if (++in_group == kGroup || r0 + kBlock >= e) {
        part[t] += grp.cast<LD>();
        grp.setZero();
        in_group = 0;
      }
    }
  });
  finite = std::all_of(ok.begin(), ok.end(), [](char c) { return c != 0; });
  MatL G = part[0];
  for (int t = 1; t < nt; ++t) G += part[t];
  return G.selfadjointView<Eigen::Upper>();
}

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

// R of [X Y] by a tall-skinny QR: each thread folds its rows, kTsqrChunk at a time, into a
// running triangle ([R; rows] -> Householder QR in cache), then the threads' triangles are
// combined.  Rows are made to have a positive diagonal.  Returns false on a zero diagonal.
bool tsqr(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::MatrixXd>& Y,
          int nt, MatL& Rt, MatL& zt) {
  constexpr Eigen::Index kTsqrChunk = 1024;
  const int p = static_cast<int>(X.cols()), k = static_cast<int>(Y.cols()), m = p + k;
  std::vector<Eigen::MatrixXd> part(nt, Eigen::MatrixXd::Zero(m, m));
  parallel_rows(0, X.rows(), nt, [&](int t, Eigen::Index b, Eigen::Index e) {
    Eigen::MatrixXd W(kTsqrChunk + m, m);
    for (Eigen::Index r0 = b; r0 < e; r0 += kTsqrChunk) {
      const Eigen::Index len = std::min(kTsqrChunk, e - r0);
      W.topRows(m) = part[t].triangularView<Eigen::Upper>();
      W.block(m, 0, len, p) = X.middleRows(r0, len);
      W.block(m, p, len, k) = Y.middleRows(r0, len);
      Eigen::Ref<Eigen::MatrixXd> w = W.topRows(m + len);
      Eigen::HouseholderQR<Eigen::Ref<Eigen::MatrixXd>> qr(w);
      part[t] = w.topRows(m).triangularView<Eigen::Upper>();
    }
  });
  Eigen::MatrixXd stack(static_cast<Eigen::Index>(nt) * m, m);
  for (int t = 0; t < nt; ++t) stack.middleRows(static_cast<Eigen::Index>(t) * m, m) = part[t];
  Eigen::HouseholderQR<Eigen::Ref<Eigen::MatrixXd>> qr(stack);
  Eigen::MatrixXd R = stack.topRows(m).triangularView<Eigen::Upper>();
  for (int i = 0; i < m; ++i)
    if (R(i, i) < 0) R.row(i) *= -1.0;
  for (int i = 0; i < p; ++i)
    if (!(R(i, i) > 0)) return false;
  Rt = R.topLeftCorner(p, p).cast<LD>();
  zt = R.topRightCorner(p, k).cast<LD>();
  return true;
}

// The row pass shared by the fit and the deferred products.  For the rows i >= p of Xw (n x p):
// with `rsd` the residuals y_i - x_i' b, with `eff` the effects y_i + x_i' v, with `C` the
// factor row x_i' C written over x_i.  Sparse rows are read from `store` (the X'X pass's copy of
// the non-zeros, same row ranges) when given, else gathered from Xw block by block (each block
// is read before it is overwritten).  Every output entry is computed by the same sequence of
// operations whichever of them are requested, so deferred products equal fit-time ones bit for
// bit (given the same nt).
void row_pass(Eigen::Ref<Eigen::MatrixXd> Xw, const Eigen::Ref<const Eigen::MatrixXd>& Yw,
              bool sparse, int nt, const std::vector<RowStore>* store, const Eigen::MatrixXd* bd,
              Eigen::MatrixXd* rsd, const Eigen::MatrixXd* vd, Eigen::MatrixXd* eff,
              const RowMatrixXd* C) {
  const Eigen::Index n = Xw.rows();
  const int p = static_cast<int>(Xw.cols());
  const int k = static_cast<int>(Yw.cols());
  if (!sparse) {
    // Dense rows: the three products as blocked matrix products (C is triangular).
    Eigen::MatrixXd Cd;
    if (C != nullptr) Cd = *C;
    parallel_rows(p, n, nt, [&](int, Eigen::Index b0, Eigen::Index e0) {
      constexpr Eigen::Index kRows = 512;
      Eigen::MatrixXd xb(kRows, p);
      for (Eigen::Index r0 = b0; r0 < e0; r0 += kRows) {
        const Eigen::Index len = std::min(kRows, e0 - r0);
        auto x = xb.topRows(len);
        x = Xw.middleRows(r0, len);
        if (rsd != nullptr) rsd->middleRows(r0, len) = Yw.middleRows(r0, len) - x * (*bd);
        if (eff != nullptr) eff->middleRows(r0, len) = Yw.middleRows(r0, len) + x * (*vd);
        if (C != nullptr) Xw.middleRows(r0, len).noalias() = x * Cd.triangularView<Eigen::Upper>();
      }
    });
    return;
  }
  parallel_rows(0, n, nt, [&](int t, Eigen::Index b0, Eigen::Index e0) {
    const RowStore* st = store != nullptr ? &(*store)[t] : nullptr;
    BlockRows rows(st != nullptr ? 0 : p);
    RowMatrixXd qrow(C != nullptr ? kBlock : 0, p);
    // One row: ix/vx its c non-zeros (columns ascending).
    auto one = [&](Eigen::Index row, Eigen::Index i, const auto* ix, const double* vx, int c) {
      for (int yc = 0; yc < k; ++yc) {
        const double y = Yw(row, yc);
        if (rsd != nullptr) {
          double fit = 0;
          for (int a = 0; a < c; ++a) fit += vx[a] * (*bd)(ix[a], yc);
          (*rsd)(row, yc) = y - fit;
        }
        if (eff != nullptr) {
          double e = 0;
          for (int a = 0; a < c; ++a) e += vx[a] * (*vd)(ix[a], yc);
          (*eff)(row, yc) = y + e;
        }
      }
      if (C == nullptr) return;
      double* q = qrow.row(i).data();
      for (int a = 0; a < c; ++a) {
        // C is upper triangular: row ix[a] has entries from column ix[a] on.
        const int ia = ix[a];
        const double va = vx[a];
        const double* __restrict cr = C->row(ia).data();
        double* __restrict qq = q;
        for (int j = ia; j < p; ++j) qq[j] += va * cr[j];
      }
    };
    for (Eigen::Index r0 = b0; r0 < e0; r0 += kBlock) {
      const Eigen::Index len = std::min(kBlock, e0 - r0);
      if (r0 + len <= p) continue;  // rows above p are not produced here
      if (st == nullptr) rows.gather(Xw, r0, len);
      if (C != nullptr) qrow.topRows(len).setZero();
      for (Eigen::Index i = 0; i < len; ++i) {
        const Eigen::Index row = r0 + i;
        if (row < p) continue;
        if (st != nullptr) {
          const std::uint32_t s0 = st->start[row - b0], s1 = st->start[row - b0 + 1];
          one(row, i, st->index.data() + s0, st->value.data() + s0, static_cast<int>(s1 - s0));
        } else {
          one(row, i, &rows.index[i * p], &rows.value[i * p], rows.count[i]);
        }
      }
      if (C == nullptr) continue;
      const Eigen::Index skip = std::max<Eigen::Index>(0, p - r0);
      for (int j = 0; j < p; ++j) {
        double* __restrict dst = Xw.col(j).data() + r0;
        const double* __restrict src = qrow.data() + j;
        Eigen::Index i = skip;
#ifdef __AVX2__
        // The factor is written once and not read again here: non-temporal stores spare the
        // read-for-ownership of 8 n p bytes.
        while (i < len && (reinterpret_cast<std::uintptr_t>(dst + i) & 31) != 0) {
          dst[i] = src[i * p];
          ++i;
        }
        for (; i + 4 <= len; i += 4) {
          const __m256d v =
              _mm256_set_pd(src[(i + 3) * p], src[(i + 2) * p], src[(i + 1) * p], src[i * p]);
          _mm256_stream_pd(dst + i, v);
        }
#endif
        for (; i < len; ++i) dst[i] = src[i * p];
      }
    }
#ifdef __AVX2__
    if (C != nullptr) _mm_sfence();
#endif
  });
}

// h_i = ||x_i' Rinv||^2 for every row of X (Rinv upper triangular).
Eigen::VectorXd hat_pass(const Eigen::Ref<const Eigen::MatrixXd>& X, bool sparse, int nt,
                         const RowMatrixXd& rinv) {
  const Eigen::Index n = X.rows();
  const int p = static_cast<int>(X.cols());
  Eigen::VectorXd hat(n);
  if (!sparse) {
    const Eigen::MatrixXd Rd = rinv;
    parallel_rows(0, n, nt, [&](int, Eigen::Index b0, Eigen::Index e0) {
      constexpr Eigen::Index kRows = 512;
      Eigen::MatrixXd z(kRows, p);
      for (Eigen::Index r0 = b0; r0 < e0; r0 += kRows) {
        const Eigen::Index len = std::min(kRows, e0 - r0);
        auto zb = z.topRows(len);
        zb.noalias() = X.middleRows(r0, len) * Rd.triangularView<Eigen::Upper>();
        hat.segment(r0, len) = zb.rowwise().squaredNorm();
      }
    });
    return hat;
  }
  parallel_rows(0, n, nt, [&](int, Eigen::Index b0, Eigen::Index e0) {
    BlockRows rows(p);
    Eigen::VectorXd z(p);
    for (Eigen::Index r0 = b0; r0 < e0; r0 += kBlock) {
      const Eigen::Index len = std::min(kBlock, e0 - r0);
      rows.gather(X, r0, len);
      for (Eigen::Index i = 0; i < len; ++i) {
        const int c = rows.count[i];
        const int* ix = &rows.index[i * p];
        const double* vx = &rows.value[i * p];
        if (c == 0) {
          hat[r0 + i] = 0.0;
          continue;
        }
        const int j0 = ix[0];
        z.tail(p - j0).setZero();
        for (int a = 0; a < c; ++a) {
          const double va = vx[a];
          const double* __restrict rr = rinv.row(ix[a]).data();
          for (int j = ix[a]; j < p; ++j) z[j] += va * rr[j];
        }
        hat[r0 + i] = z.tail(p - j0).squaredNorm();
      }
    }
  });
  return hat;
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

bool tall_algebra(const MatL& Rt, const MatL& zt, const MatL& Xty, const MatL& Xtop,
                  const MatL& ytop, double tol, TallAlgebra& out) {
  const int p = static_cast<int>(Rt.rows());
  constexpr bool kNo = false;
  // Conditioning, and dqrdc2's own rule on R~ (same column norms and projections as X).
  {
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
  }

  MatL b = zt;
  Rt.triangularView<Eigen::Upper>().solveInPlace(b);

  // Modified LU of I - Q~top D (signs d chosen so that every pivot is 1 + |a| >= 1).
  MatL A = Xtop;
  Rt.triangularView<Eigen::Upper>().solveInPlace<Eigen::OnTheRight>(A);  // Q~top
  A = -A;
  VecL d(p), tau(p);
  MatL L = MatL::Identity(p, p);
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

  // Rows above p of the factor: R (rows scaled by d) on and above the diagonal, tau_l V(i, l)
  // below.
  Eigen::MatrixXd top(p, p);
  for (int j = 0; j < p; ++j) {
    for (int i = 0; i <= j; ++i) top(i, j) = static_cast<double>(d[i] * Rt(i, j));
    for (int i = j + 1; i < p; ++i) top(i, j) = static_cast<double>(tau[j] * L(i, j));
  }

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

  // Cheap density estimate on the first rows.
  double density = 0.0;
  {
    const Eigen::Index s = std::min<Eigen::Index>(n, 20000);
    Eigen::Index nz = 0;
    for (int j = 0; j < p; ++j) nz += (Xw.col(j).head(s).array() != 0.0).count();
    density = static_cast<double>(nz) / (static_cast<double>(s) * p);
  }
  const bool sparse = density <= kRowsMaxDensity;  // design_rows.hpp

  // R~ (X = Q~ R~, positive diagonal), z~ = Q~'y and X'y: from X'X accumulated over the
  // non-zeros of sparse designs, from a tall-skinny Householder QR of [X y] otherwise.
  const int nt = thread_count(threads);
  std::vector<RowStore> store;
  MatL Rt, zt, Xty;
  if (sparse) {
    bool finite = true;
    const MatL G = gram(Xw, Yw, nt, density, store, finite);
    if (!finite) return TallStatus::kNonFiniteX;
    if (!cholesky_upper(G, p, Rt)) return kNo;
    Xty = G.block(0, p, p, k);
    zt = Xty;
    Rt.triangularView<Eigen::Upper>().transpose().solveInPlace(zt);
  } else {
    for (int j = 0; j < p; ++j)
      if (!((Xw.col(j).array() * 0.0).sum() == 0.0)) return TallStatus::kNonFiniteX;
    if (!tsqr(Xw, Yw, nt, Rt, zt)) return kNo;
    Xty = Rt.transpose() * zt;
  }

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
  const std::vector<RowStore>* rows = sparse ? &store : nullptr;
  if (deferred != nullptr) {
    row_pass(Xw, Yw, sparse, nt, rows, &bd, &out.rsd, nullptr, nullptr, nullptr);
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
    row_pass(Xw, Yw, sparse, nt, rows, &bd, &out.rsd, &vd, &out.effects, &C);
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
  deferred.nt = thread_count(0);
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

Eigen::MatrixXd tall_materialise(const TallFactor& f, Eigen::Ref<Eigen::MatrixXd> Xw,
                                 const Eigen::Ref<const Eigen::MatrixXd>& effects_top) {
  const int p = f.p;
  if (Xw.cols() != p || f.yw.rows() != Xw.rows() || f.yw.cols() != f.k || effects_top.rows() < p ||
      effects_top.cols() != f.k)
    throw std::invalid_argument("tall_materialise: dimensions do not match the fit");
  Eigen::MatrixXd eff(Xw.rows(), f.k);
  eff.topRows(p) = effects_top.topRows(p);
  const Eigen::MatrixXd vd = f.v;
  row_pass(Xw, f.yw, f.sparse, f.nt, nullptr, nullptr, nullptr, &vd, &eff, &f.C);
  Xw.topRows(p) = f.top;
  return eff;
}

Eigen::VectorXd tall_hat(const TallFactor& f, const Eigen::Ref<const Eigen::MatrixXd>& Xw) {
  if (Xw.cols() != f.p) throw std::invalid_argument("tall_hat: dimensions do not match the fit");
  return hat_pass(Xw, f.sparse, f.nt, f.rinv);
}

}  // namespace rmodels
