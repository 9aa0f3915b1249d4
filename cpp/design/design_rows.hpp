// A tall model matrix kept by rows: the non-zero entries of each row (columns ascending), for
// designs that are mostly zeros (factor dummies).  glm's IRLS accumulates its weighted Gram
// matrix over them at every step (glm.cpp).  Built either from a dense column-major matrix or
// straight from a model's terms (design.hpp's components), without the dense matrix.
#pragma once
#include <Eigen/Dense>
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "design.hpp"
#include "hardware.hpp"

namespace rmodels {

// Rows per piece of SparseRows and per task of the threaded element-wise passes.
constexpr Eigen::Index kRowChunk = 8192;
// Largest share of non-zero entries for which the row store is worth keeping.
constexpr double kRowsMaxDensity = 0.35;

inline int worker_count() {
  const unsigned h = hardware_threads();
  return h == 0 ? 1 : static_cast<int>(std::min(h, 8u));
}

// f(task, begin, end) for the tasks [k * size, min(n, (k + 1) * size)), spread over threads
// (one thread when n < 2 kRowChunk).  Each task's work must not depend on the thread running it.
template <typename F>
void for_tasks(Eigen::Index n, Eigen::Index size, F&& f) {
  const Eigen::Index tasks = (n + size - 1) / size;
  const int nt = static_cast<int>(std::min<Eigen::Index>(worker_count(), tasks));
  std::atomic<Eigen::Index> next{0};
  auto run = [&] {
    for (Eigen::Index k = next++; k < tasks; k = next++)
      f(k, k * size, std::min(n, (k + 1) * size));
  };
  if (nt <= 1 || n < 2 * kRowChunk) {
    run();
    return;
  }
  std::vector<std::thread> pool;
  for (int t = 1; t < nt; ++t) pool.emplace_back(run);
  run();
  for (auto& th : pool) th.join();
}

struct SparseRows {
  struct Piece {
    std::vector<std::uint32_t> start{0};
    std::vector<std::uint16_t> index;
    std::vector<double> value;
  };
  Eigen::Index n = 0;
  int p = 0;
  // Every row's first `head` entries are columns 0, ..., head - 1 (an intercept and numeric
  // columns before the factors): rows_gram sums that dense block as a small matrix product.
  int head = 0;
  std::vector<Piece> pieces;  // rows [k kRowChunk, (k + 1) kRowChunk)
  // Row i: entries [start[i % kRowChunk], start[i % kRowChunk + 1]) of piece(i).
  const Piece& piece(Eigen::Index i) const { return pieces[i / kRowChunk]; }
  double nnz() const {
    double s = 0;
    for (const auto& pc : pieces) s += static_cast<double>(pc.index.size());
    return s;
  }
  // Entry (i, j) of the matrix.
  double at(Eigen::Index i, int j) const;
  // Sets head from the stored rows.
  void find_head();
};

// G = [sw X  zw]'[sw X  zw] ((p + 1) x (p + 1), long double, symmetric) over the non-zeros of
// the rows.  Rows are cut into a fixed number of contiguous slots that depends on n and p only;
// each slot sums its rows in double over blocks of kGramBlock rows, blocks over groups of
// kGramGroup rows, groups in long double, and the slots are added in order: any thread count
// gives the same bits.  Within a block, the dense leading columns (sd.head) and zw form a small
// dense matrix whose cross-products are one matrix product; every other entry is scattered into
// place row by row.
constexpr Eigen::Index kGramBlock = 256;
constexpr Eigen::Index kGramGroup = 4096;

// block(r0, r1) fills sw and zw (the sqrt working weights and weighted working responses; sw = 0
// leaves a row out) on rows [r0, r1) just before they are accumulated; it is called once per
// block of rows, from several threads.
template <typename Block>
Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic> rows_gram(const SparseRows& sd,
                                                                     const Eigen::VectorXd& sw,
                                                                     const Eigen::VectorXd& zw,
                                                                     Block&& block) {
  const int p = sd.p, m = p + 1, h = sd.head;
  const Eigen::Index n = sd.n;
  // Slots: a function of n and p only.
  const Eigen::Index max_slots = m > 200 ? 4 : 16;
  const Eigen::Index groups = (n + kGramGroup - 1) / kGramGroup;
  const Eigen::Index slots = std::max<Eigen::Index>(1, std::min(max_slots, groups));
  const Eigen::Index per_slot = ((groups + slots - 1) / slots) * kGramGroup;
  using MatL = Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic>;
  std::vector<MatL> part(slots, MatL::Zero(m, m));
  for_tasks(n, per_slot, [&](Eigen::Index slot, Eigen::Index b, Eigen::Index e) {
    Eigen::MatrixXd blk(m, m), grp(m, m);
    // The block's rows of [sw X_head  zw] and their cross-products.
    Eigen::MatrixXd hb(kGramBlock, h + 1), hh(h + 1, h + 1);
    std::vector<double> xs(p), hv(h + 1);
    std::vector<int> ix(p);
    MatL& acc = part[slot];
    for (Eigen::Index g0 = b; g0 < e; g0 += kGramGroup) {
      grp.setZero();
      const Eigen::Index g1 = std::min(e, g0 + kGramGroup);
      for (Eigen::Index r0 = g0; r0 < g1; r0 += kGramBlock) {
        blk.setZero();
        double* gd = blk.data();
        const Eigen::Index r1 = std::min(g1, r0 + kGramBlock);
        block(r0, r1);
        for (Eigen::Index i = r0; i < r1; ++i) {
          const double w = sw[i], zi = zw[i];
          const Eigen::Index bi = i - r0;
          if (w == 0.0) {  // a row outside the step adds nothing
            for (int k = 0; k <= h; ++k) hb(bi, k) = 0.0;
            continue;
          }
          const SparseRows::Piece& pc = sd.piece(i);
          const Eigen::Index li = i % kRowChunk;
          const std::uint32_t s0 = pc.start[li];
          const int c = static_cast<int>(pc.start[li + 1] - s0);
          for (int k = 0; k < h; ++k) {
            hv[k] = pc.value[s0 + k] * w;
            hb(bi, k) = hv[k];
          }
          hb(bi, h) = zi;
          const int t = c - h;  // entries after the head
          for (int a = 0; a < t; ++a) {
            ix[a] = pc.index[s0 + h + a];
            xs[a] = pc.value[s0 + h + a] * w;
          }
          for (int a = 0; a < t; ++a) {
            const double va = xs[a];
            double* col = gd + static_cast<Eigen::Index>(ix[a]) * m;
            for (int k = 0; k < h; ++k) col[k] += hv[k] * va;  // (head k, ix[a])
            double* ga = gd + ix[a];
            for (int q = a; q < t; ++q) ga[static_cast<Eigen::Index>(ix[q]) * m] += va * xs[q];
            ga[static_cast<Eigen::Index>(p) * m] += va * zi;
          }
        }
        // The head block and z: [head, p] x [head, p] from one product.
        const auto hr = hb.topRows(r1 - r0);
        hh.noalias() = hr.transpose() * hr;
        for (int q = 0; q < h; ++q) {
          for (int a = 0; a <= q; ++a) blk(a, q) += hh(a, q);
          blk(q, p) += hh(q, h);
        }
        blk(p, p) += hh(h, h);
        grp += blk;
      }
      acc += grp.cast<long double>();
    }
  });
  MatL G = part[0];
  for (Eigen::Index s = 1; s < slots; ++s) G += part[s];
  return G.selfadjointView<Eigen::Upper>();
}

// rows_gram without a block step (sw and zw already filled).
inline Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic> rows_gram(
    const SparseRows& sd, const Eigen::VectorXd& sw, const Eigen::VectorXd& zw) {
  return rows_gram(sd, sw, zw, [](Eigen::Index, Eigen::Index) {});
}

// True when an n x p design is worth keeping by rows: tall (n >= 4p + 16, n p >= 2e5) and
// p <= 600 (the Gram path's p x p work per step stays small).
bool rows_shape_ok(Eigen::Index n, Eigen::Index p);

// Fill sd from a dense column-major X when rows_shape_ok, X is finite and at most
// kRowsMaxDensity of it is non-zero; false otherwise.
bool sparse_rows(const Eigen::Ref<const Eigen::MatrixXd>& X, SparseRows& sd);

// X b over the rows, each row summed over its columns in order with zero coefficients skipped
// (reference BLAS's accumulation order, as R's X %*% b). Threaded; b has p entries.
Eigen::VectorXd rows_matvec(const SparseRows& rows, const Eigen::Ref<const Eigen::VectorXd>& b);

// h_i = w_i x_i' M x_i over the rows (threaded; 0 where w_i == 0): with M = (R'R)^-1 of a
// weighted fit, the hat values of sqrt(W) X. M is p x p, w has n entries.
Eigen::VectorXd rows_hat(const SparseRows& rows, const Eigen::Ref<const Eigen::MatrixXd>& M,
                         const Eigen::Ref<const Eigen::VectorXd>& w);

// The dense n x p matrix.
Eigen::MatrixXd rows_dense(const SparseRows& rows);

// One model-matrix term: its first column and its components (no components: a column of ones).
struct TermSpec {
  std::ptrdiff_t col_offset = 0;
  std::vector<TermComponent> comps;
};

// Fill sd with the rows of the n x p model matrix whose terms are given (in column order), each
// entry the same product as fill_term computes; false (sd unusable) when the shape or density
// rules above fail or an entry is not finite (a missing factor code included).
bool sparse_rows_from_terms(std::ptrdiff_t n, int p, const std::vector<TermSpec>& terms,
                            SparseRows& sd);

}  // namespace rmodels
