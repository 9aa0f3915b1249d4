// The passes over the rows of a tall design (see qr_tall_passes.hpp and qr_tall.cpp).
#include "qr_tall_passes.hpp"

#include <algorithm>

#include "hardware.hpp"
#ifdef __AVX2__
#include <immintrin.h>
#endif
#include <cmath>
#include <stdexcept>
#include <thread>

namespace rmodels {
namespace tall {

namespace {

constexpr Eigen::Index kBlock = 256;

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

}  // namespace

int thread_count(int threads) {
  if (threads > 0) return threads;
  const unsigned h = hardware_threads();
  return h == 0 ? 1 : static_cast<int>(std::min(h, 8u));
}

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

namespace {

// Dense rows: the three products as blocked matrix products (C is triangular).
void dense_row_pass(Eigen::Ref<Eigen::MatrixXd> Xw, const Eigen::Ref<const Eigen::MatrixXd>& Yw,
                    int nt, const Eigen::MatrixXd* bd, Eigen::MatrixXd* rsd,
                    const Eigen::MatrixXd* vd, Eigen::MatrixXd* eff, const RowMatrixXd* C) {
  const Eigen::Index n = Xw.rows();
  const int p = static_cast<int>(Xw.cols());
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
}

// Rows r0 .. r0 + len of the factor (rows of qrow, those below p) written into the columns of
// Xw.
void store_factor_rows(Eigen::Ref<Eigen::MatrixXd> Xw, const RowMatrixXd& qrow, Eigen::Index r0,
                       Eigen::Index len) {
  const int p = static_cast<int>(Xw.cols());
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

// Sparse rows, each product over the row's non-zeros (from `store` or gathered from Xw).
void sparse_row_pass(Eigen::Ref<Eigen::MatrixXd> Xw, const Eigen::Ref<const Eigen::MatrixXd>& Yw,
                     int nt, const std::vector<RowStore>* store, const Eigen::MatrixXd* bd,
                     Eigen::MatrixXd* rsd, const Eigen::MatrixXd* vd, Eigen::MatrixXd* eff,
                     const RowMatrixXd* C) {
  const Eigen::Index n = Xw.rows();
  const int p = static_cast<int>(Xw.cols());
  const int k = static_cast<int>(Yw.cols());
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
      store_factor_rows(Xw, qrow, r0, len);
    }
#ifdef __AVX2__
    if (C != nullptr) _mm_sfence();
#endif
  });
}

}  // namespace

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
  if (sparse)
    sparse_row_pass(Xw, Yw, nt, store, bd, rsd, vd, eff, C);
  else
    dense_row_pass(Xw, Yw, nt, bd, rsd, vd, eff, C);
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

}  // namespace tall

Eigen::MatrixXd tall_materialise(const TallFactor& f, Eigen::Ref<Eigen::MatrixXd> Xw,
                                 const Eigen::Ref<const Eigen::MatrixXd>& effects_top) {
  const int p = f.p;
  if (Xw.cols() != p || f.yw.rows() != Xw.rows() || f.yw.cols() != f.k || effects_top.rows() < p ||
      effects_top.cols() != f.k)
    throw std::invalid_argument("tall_materialise: dimensions do not match the fit");
  Eigen::MatrixXd eff(Xw.rows(), f.k);
  eff.topRows(p) = effects_top.topRows(p);
  const Eigen::MatrixXd vd = f.v;
  tall::row_pass(Xw, f.yw, f.sparse, f.nt, nullptr, nullptr, nullptr, &vd, &eff, &f.C);
  Xw.topRows(p) = f.top;
  return eff;
}

Eigen::VectorXd tall_hat(const TallFactor& f, const Eigen::Ref<const Eigen::MatrixXd>& Xw) {
  if (Xw.cols() != f.p) throw std::invalid_argument("tall_hat: dimensions do not match the fit");
  return tall::hat_pass(Xw, f.sparse, f.nt, f.rinv);
}

}  // namespace rmodels
