// Dense Cholesky kernels of the blocked PLS factor (see dense_cholesky.hpp).
#include "dense_cholesky.hpp"

#include <algorithm>
#include <cmath>
#include <thread>
#include <utility>

namespace rmodels {
namespace lmer {

using Eigen::MatrixXd;

// Right-looking blocked Cholesky A = L L' in place (lower triangle read and written). The
// trailing update of each step, A22 -= A21 A21', is split by columns into two parts of equal
// work (the first 29% of the columns hold half of the lower triangle); with threads > 1 the two
// parts run concurrently. The arithmetic does not depend on the number of threads.
bool dense_cholesky_lower(MatrixXd& A, int threads) {
  using Eigen::Index;
  const Index n = A.rows();
  constexpr Index kPanel = 128;
  for (Index k = 0; k < n; k += kPanel) {
    const Index b = std::min(kPanel, n - k);
    Eigen::Ref<MatrixXd> A11 = A.block(k, k, b, b);
    Eigen::LLT<Eigen::Ref<MatrixXd>> llt(A11);
    if (llt.info() != Eigen::Success) return false;
    const Index m = n - k - b;
    if (m == 0) break;
    auto A21 = A.block(k + b, k, m, b);
    A11.triangularView<Eigen::Lower>().transpose().solveInPlace<Eigen::OnTheRight>(A21);
    const Index c = std::max<Index>(1, std::min<Index>(m - 1, static_cast<Index>(0.2929 * m)));
    const Index o = k + b;
    auto left = [&]() {
      A.block(o, o, c, c).selfadjointView<Eigen::Lower>().rankUpdate(A21.topRows(c), -1.0);
      A.block(o + c, o, m - c, c).noalias() -= A21.bottomRows(m - c) * A21.topRows(c).transpose();
    };
    auto right = [&]() {
      A.block(o + c, o + c, m - c, m - c)
          .selfadjointView<Eigen::Lower>()
          .rankUpdate(A21.bottomRows(m - c), -1.0);
    };
    if (threads > 1 && m >= 512) {
      std::thread worker(left);
      right();
      worker.join();
    } else {
      left();
      right();
    }
  }
  return true;
}

// Right-looking Cholesky A = L L' (lower triangle read and written) of a matrix whose factor
// has zero tiles: below[K] lists the tiles I > K of tile column K that can be nonzero (a
// superset of the structure of L, closed under the updates, see build_ordering). Only those
// tiles are solved and only the tiles they update are touched; every other tile of the lower
// triangle must hold zeros and keeps them. With threads > 1 the updates of each step are
// shared by two threads by runs of target tile columns (each tile is written by one thread, by
// the same operations), so the result does not depend on the number of threads.
bool tiled_cholesky_lower(MatrixXd& A, int b, const std::vector<std::vector<int>>& below,
                          int threads) {
  using Eigen::Index;
  const Index n = A.rows();
  const int nt = static_cast<int>(below.size());
  auto sz = [&](int I) { return std::min<Index>(b, n - static_cast<Index>(I) * b); };
  std::vector<std::pair<int, int>> runs;  // maximal runs [I0, I1) of consecutive listed tiles
  for (int K = 0; K < nt; ++K) {
    const Index o = static_cast<Index>(K) * b, bk = sz(K);
    Eigen::Ref<MatrixXd> AKK = A.block(o, o, bk, bk);
    Eigen::LLT<Eigen::Ref<MatrixXd>> llt(AKK);
    if (llt.info() != Eigen::Success) return false;
    const std::vector<int>& list = below[K];
    if (list.empty()) continue;
    runs.clear();
    for (size_t a = 0; a < list.size();) {
      size_t e = a + 1;
      while (e < list.size() && list[e] == list[e - 1] + 1) ++e;
      runs.emplace_back(list[a], list[e - 1] + 1);
      a = e;
    }
    for (const auto& ru : runs) {
      const Index r0 = static_cast<Index>(ru.first) * b;
      const Index len = std::min<Index>(static_cast<Index>(ru.second) * b, n) - r0;
      auto B = A.block(r0, o, len, bk);
      AKK.triangularView<Eigen::Lower>().transpose().solveInPlace<Eigen::OnTheRight>(B);
    }
    // A(I, J) -= L(I, K) L(J, K)' for listed I >= J, by run of tile columns J: the diagonal
    // part as one symmetric rank update, each run of tile rows below it as one product
    auto update = [&](size_t jr) {
      const Index cj = static_cast<Index>(runs[jr].first) * b;
      const Index wj = std::min<Index>(static_cast<Index>(runs[jr].second) * b, n) - cj;
      const auto LJ = A.block(cj, o, wj, bk);
      A.block(cj, cj, wj, wj).selfadjointView<Eigen::Lower>().rankUpdate(LJ, -1.0);
      for (size_t ir = jr + 1; ir < runs.size(); ++ir) {
        const Index r0 = static_cast<Index>(runs[ir].first) * b;
        const Index len = std::min<Index>(static_cast<Index>(runs[ir].second) * b, n) - r0;
        A.block(r0, cj, len, wj).noalias() -= A.block(r0, o, len, bk) * LJ.transpose();
      }
    };
    const size_t nr = runs.size();
    // work of each run of columns: its width times the rows from its start down
    std::vector<double> cum(nr + 1, 0.0);
    for (size_t jr = 0; jr < nr; ++jr) {
      double rows = 0.0;
      for (size_t ir = jr; ir < nr; ++ir) rows += runs[ir].second - runs[ir].first;
      cum[jr + 1] = cum[jr] + rows * (runs[jr].second - runs[jr].first);
    }
    size_t split = 0;
    while (split < nr && cum[split + 1] <= 0.5 * cum[nr]) ++split;
    if (threads > 1 && split > 0 && split < nr && cum[nr] >= 64.0) {
      std::thread worker([&]() {
        for (size_t jr = 0; jr < split; ++jr) update(jr);
      });
      for (size_t jr = split; jr < nr; ++jr) update(jr);
      worker.join();
    } else {
      for (size_t jr = 0; jr < nr; ++jr) update(jr);
    }
  }
  return true;
}

// One level of a vector-valued first term, without heap allocation (k <= kSmallBlock):
// L = chol(T'AT + I) (k x k lower, column-major, upper part zeroed) and
// L31 = A31 T L^-T (p1 x k, column-major). Returns log|L|^2.
double factor_small_block(const double* A, const double* A31, int k, int p1, const double* T,
                          double* L, double* L31) {
  double AT[kSmallBlock * kSmallBlock];
  for (int c = 0; c < k; ++c)
    for (int r = 0; r < k; ++r) {
      double acc = 0.0;
      for (int s = c; s < k; ++s) acc += A[r + s * k] * T[s + c * k];  // T lower: s >= c
      AT[r + c * k] = acc;
    }
  for (int c = 0; c < k; ++c)
    for (int r = 0; r < k; ++r) {
      double acc = 0.0;
      for (int s = r; s < k; ++s) acc += T[s + r * k] * AT[s + c * k];
      L[r + c * k] = acc + (r == c ? 1.0 : 0.0);
    }
  double ld = 0.0;
  for (int j = 0; j < k; ++j) {
    double d = L[j + j * k];
    for (int s = 0; s < j; ++s) d -= L[j + s * k] * L[j + s * k];
    d = std::sqrt(d);
    L[j + j * k] = d;
    ld += 2.0 * std::log(d);
    for (int i = j + 1; i < k; ++i) {
      double v = L[i + j * k];
      for (int s = 0; s < j; ++s) v -= L[i + s * k] * L[j + s * k];
      L[i + j * k] = v / d;
    }
    for (int i = 0; i < j; ++i) L[i + j * k] = 0.0;
  }
  // rows of A31 T, each solved against L' from the right: x L' = b  <=>  L x' = b'.
  for (int i = 0; i < p1; ++i) {
    double b[kSmallBlock];
    for (int c = 0; c < k; ++c) {
      double acc = 0.0;
      for (int s = c; s < k; ++s) acc += A31[i + s * p1] * T[s + c * k];
      b[c] = acc;
    }
    for (int c = 0; c < k; ++c) {
      double v = b[c];
      for (int s = 0; s < c; ++s) v -= L[c + s * k] * b[s];
      b[c] = v / L[c + c * k];
    }
    for (int c = 0; c < k; ++c) L31[i + c * p1] = b[c];
  }
  return ld;
}

}  // namespace lmer
}  // namespace rmodels
