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

namespace rmodels {

// Rows per piece of SparseRows and per task of the threaded element-wise passes.
constexpr Eigen::Index kRowChunk = 8192;
// Largest share of non-zero entries for which the row store is worth keeping.
constexpr double kRowsMaxDensity = 0.35;

inline int worker_count() {
  const unsigned h = std::thread::hardware_concurrency();
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
};

// True when an n x p design is worth keeping by rows: tall (n >= 4p + 16, n p >= 2e5) and
// p <= 600 (the Gram path's p x p work per step stays small).
bool rows_shape_ok(Eigen::Index n, Eigen::Index p);

// Fill sd from a dense column-major X when rows_shape_ok, X is finite and at most
// kRowsMaxDensity of it is non-zero; false otherwise.
bool sparse_rows(const Eigen::Ref<const Eigen::MatrixXd>& X, SparseRows& sd);

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
