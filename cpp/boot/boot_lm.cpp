// Case-bootstrap refits of an lm (see boot_lm.hpp).
#include "boot_lm.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <stdexcept>
#include <thread>

#include "batch.hpp"
#include "lm.hpp"

namespace rmodels {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr Eigen::Index kMaxWidth = 32;  // the widest row kernel (p <= 31)

// The rows every replicate draws from: [sqrt(w) x_i, sqrt(w) (y_i - o_i)] row-major with `width`
// doubles a row (p + 1 rounded up to a multiple of 4, zero padded), computed as lm.wfit
// computes them; `used[i]`: w_i != 0 (lm.wfit sets the other rows aside).
struct RowTable {
  std::vector<double> rows;
  std::vector<char> used;
  Eigen::Index p = 0, width = 0;
  bool all_used = true;
};

RowTable row_table(const Eigen::Ref<const Eigen::MatrixXd>& X,
                   const Eigen::Ref<const Eigen::VectorXd>& y,
                   const Eigen::Ref<const Eigen::VectorXd>& w,
                   const Eigen::Ref<const Eigen::VectorXd>& o) {
  RowTable t;
  const Eigen::Index N = X.rows();
  t.p = X.cols();
  t.width = (t.p + 1 + 3) / 4 * 4;
  t.rows.assign(static_cast<std::size_t>(N * t.width), 0.0);
  t.used.assign(static_cast<std::size_t>(N), 1);
  for (Eigen::Index i = 0; i < N; ++i) {
    double* row = t.rows.data() + i * t.width;
    const double yo = o.size() ? y[i] - o[i] : y[i];
    if (w.size() == 0) {
      for (Eigen::Index j = 0; j < t.p; ++j) row[j] = X(i, j);
      row[t.p] = yo;
      continue;
    }
    if (w[i] == 0.0) {
      t.used[static_cast<std::size_t>(i)] = 0;
      t.all_used = false;
    }
    const double sw = std::sqrt(w[i]);
    for (Eigen::Index j = 0; j < t.p; ++j) row[j] = X(i, j) * sw;
    row[t.p] = yo * sw;
  }
  return t;
}

// dnrm2's plain sum of squares when it is R's result (finite, above the underflow guard);
// false when the reference BLAS would take its scaled path or the column is zero.
bool plain_norm(double ss, double& norm) {
  if (!(std::isfinite(ss) && ss > 1e-290)) return false;
  norm = std::sqrt(ss);
  return true;
}

// Per-thread storage of the row kernel: the replicate's rows (n x K, row-major) and the
// norms of dqrdc2 (qraux, and the original norms w2).
struct Workspace {
  std::vector<double> B, qraux, w2, b;
  void resize(Eigen::Index n, Eigen::Index width) {
    B.resize(static_cast<std::size_t>(n * width));
    for (auto* v : {&qraux, &w2, &b}) v->assign(static_cast<std::size_t>(width), 0.0);
  }
};

// The row kernel for rows of K doubles (K = RowTable::width, a compile-time constant so that the
// K running sums of a pass stay in registers; each is a sequential sum over the rows, in R's
// order). The columns j <= l of a step get a zero multiplier, which leaves column l (the
// reflector, read again by later rows of the same pass) exactly as it is.
template <int K>
struct RowKernel {
  // Gathers the replicate's rows into B and sums each column's squares (dnrm2's order).
  static void gather(const RowTable& tab, const std::int32_t* idx, Eigen::Index n, double* B,
                     double* ss) {
    double acc[K];
    for (int j = 0; j < K; ++j) acc[j] = 0.0;
    for (Eigen::Index k = 0; k < n; ++k) {
      const double* src = tab.rows.data() + static_cast<Eigen::Index>(idx[k]) * K;
      double* dst = B + k * K;
      for (int j = 0; j < K; ++j) {
        const double v = src[j];
        dst[j] = v;
        acc[j] = acc[j] + v * v;
      }
    }
    for (int j = 0; j < K; ++j) ss[j] = acc[j];
  }

  // Householder step l of dqrdc2 (no column moved), y carried as column p: column l scaled by
  // 1 / nrmxl (its first entry then 1 + itself), a pass for the dot products of every later
  // column with it, a pass for the updates; ss2 receives the squares of the updated columns
  // below row l (the next step's norm and dqrdc2's recomputed norms).
  static void step(double* B, Eigen::Index n, Eigen::Index l, double nrmxl, double* ss2) {
    const double f = 1.0 / nrmxl;
    double* rl = B + l * K;
    rl[l] = 1.0 + f * rl[l];
    const double u1 = rl[l];
    double s[K];
    for (int j = 0; j < K; ++j) s[j] = 0.0;
    for (int j = 0; j < K; ++j) s[j] = s[j] + u1 * rl[j];
    for (Eigen::Index i = l + 1; i < n; ++i) {
      double* ri = B + i * K;
      const double c = f * ri[l];
      for (int j = 0; j < K; ++j) s[j] = s[j] + c * ri[j];  // s[l] is not used
      ri[l] = c;
    }
    double t[K];
    for (int j = 0; j < K; ++j) t[j] = j > l ? -s[j] / u1 : 0.0;
    for (int j = 0; j < K; ++j) rl[j] = rl[j] + t[j] * u1;
    double acc[K];
    for (int j = 0; j < K; ++j) acc[j] = 0.0;
    for (Eigen::Index i = l + 1; i < n; ++i) {
      double* ri = B + i * K;
      const double c = ri[l];
      for (int j = 0; j < K; ++j) {
        const double v = ri[j] + t[j] * c;
        ri[j] = v;
        acc[j] = acc[j] + v * v;
      }
    }
    for (int j = 0; j < K; ++j) ss2[j] = acc[j];
  }
};

// dqrdc2's norm down-dates of the columns after l (recomputed from the rows below l when the
// factor falls below 1e-6). False when a recomputed norm is not dnrm2's plain sum.
bool downdate_norms(Workspace& ws, const double* rl, const double* ss2, Eigen::Index p,
                    Eigen::Index l) {
  for (Eigen::Index j = l + 1; j < p; ++j) {
    if (ws.qraux[j] == 0.0) continue;
    const double r = std::abs(rl[j]) / ws.qraux[j];
    const double tt = std::max(1.0 - r * r, 0.0);
    if (std::abs(tt) < 1e-6) {
      if (!plain_norm(ss2[j], ws.qraux[j])) return false;
    } else {
      ws.qraux[j] = ws.qraux[j] * std::sqrt(tt);
    }
  }
  return true;
}

// dqrsl's back substitution R b = (Q'y)[0:p] on the factor in B (row stride W).
void back_substitute(const double* B, Eigen::Index W, Eigen::Index p, double* b) {
  for (Eigen::Index i = 0; i < p; ++i) b[i] = B[i * W + p];
  for (Eigen::Index jj = 0; jj < p; ++jj) {
    const Eigen::Index j = p - jj - 1;
    b[j] = b[j] / B[j * W + j];
    if (j != 0) {
      const double tj = -b[j];
      for (Eigen::Index i = 0; i < j; ++i) b[i] = b[i] + tj * B[i * W + j];
    }
  }
}

// The refit of one replicate by the row kernel (all n rows used, n > p): coefficients in coef
// (p, original order). False, with nothing written, when the replicate needs the general path
// (a column dqrdc2 would move, a norm on dnrm2's scaled path).
template <int K>
bool refit_rows(const RowTable& tab, const std::int32_t* idx, Eigen::Index n, double tol,
                Workspace& ws, double* coef) {
  const Eigen::Index p = tab.p;
  double* B = ws.B.data();
  double ss[K];
  RowKernel<K>::gather(tab, idx, n, B, ss);
  for (Eigen::Index j = 0; j < p; ++j) {
    if (!plain_norm(ss[j], ws.qraux[j])) return false;
    ws.w2[j] = ws.qraux[j];
  }
  double nrm2 = ss[0];
  for (Eigen::Index l = 0; l < p; ++l) {
    if (ws.qraux[l] < ws.w2[l] * tol) return false;  // dqrdc2 would move column l
    double nrmxl;
    if (!plain_norm(nrm2, nrmxl)) return false;
    const double a = B[l * K + l];
    if (a != 0.0) nrmxl = std::copysign(nrmxl, a);
    RowKernel<K>::step(B, n, l, nrmxl, ss);
    if (!downdate_norms(ws, B + l * K, ss, p, l)) return false;
    ws.qraux[l] = B[l * K + l];
    B[l * K + l] = -nrmxl;
    if (l + 1 < p) nrm2 = ss[l + 1];
  }
  back_substitute(B, K, p, ws.b.data());
  std::copy(ws.b.data(), ws.b.data() + p, coef);
  return true;
}

// The row kernel for the table's width (false when it has none: p + 1 > 32).
bool refit_rows_any(const RowTable& tab, const std::int32_t* idx, Eigen::Index n, double tol,
                    Workspace& ws, double* coef) {
  switch (tab.width) {
    case 4:
      return refit_rows<4>(tab, idx, n, tol, ws, coef);
    case 8:
      return refit_rows<8>(tab, idx, n, tol, ws, coef);
    case 12:
      return refit_rows<12>(tab, idx, n, tol, ws, coef);
    case 16:
      return refit_rows<16>(tab, idx, n, tol, ws, coef);
    case 20:
      return refit_rows<20>(tab, idx, n, tol, ws, coef);
    case 24:
      return refit_rows<24>(tab, idx, n, tol, ws, coef);
    case 28:
      return refit_rows<28>(tab, idx, n, tol, ws, coef);
    case 32:
      return refit_rows<32>(tab, idx, n, tol, ws, coef);
    default:
      return false;
  }
}

// Any replicate: lm.wfit itself (R's operation order) on the replicate's used rows.
void refit_general(const RowTable& tab, const std::int32_t* idx, Eigen::Index n, double tol,
                   double* coef, int& rank) {
  const Eigen::Index p = tab.p, W = tab.width;
  Eigen::Index nu = 0;
  for (Eigen::Index k = 0; k < n; ++k) nu += tab.used[static_cast<std::size_t>(idx[k])];
  if (nu == 0) throw std::invalid_argument("all weights are zero");
  Eigen::MatrixXd Xr(nu, p);
  Eigen::MatrixXd yr(nu, 1);
  Eigen::Index m = 0;
  for (Eigen::Index k = 0; k < n; ++k) {
    const Eigen::Index i = idx[k];
    if (!tab.used[static_cast<std::size_t>(i)]) continue;
    const double* row = tab.rows.data() + i * W;
    for (Eigen::Index j = 0; j < p; ++j) Xr(m, j) = row[j];
    yr(m, 0) = row[p];
    ++m;
  }
  const Eigen::VectorXd none;
  const LmFit f = lm_wfit_inplace(Xr, yr, none, none, tol, /*threads=*/1, /*extended=*/1,
                                  /*allow_fast=*/false);
  for (Eigen::Index j = 0; j < p; ++j) coef[j] = f.coefficients(j, 0);
  rank = f.rank;
}

}  // namespace

BootLmReplicates boot_lm_case(const Eigen::Ref<const Eigen::MatrixXd>& X,
                              const Eigen::Ref<const Eigen::VectorXd>& y,
                              const Eigen::Ref<const Eigen::VectorXd>& weights,
                              const Eigen::Ref<const Eigen::VectorXd>& offset,
                              const std::int32_t* indices, std::int64_t R, std::int64_t n,
                              double tol, int threads) {
  const RowTable tab = row_table(X, y, weights, offset);
  const Eigen::Index p = tab.p;
  BootLmReplicates out;
  out.coef.assign(static_cast<std::size_t>(R * p), kNaN);
  out.rank.assign(static_cast<std::size_t>(R), 0);
  out.status.assign(static_cast<std::size_t>(R), 0);
  out.message.assign(static_cast<std::size_t>(R), std::string());
  const bool row_kernel = tab.all_used && n > p && p > 0 && tab.width <= kMaxWidth;
  std::atomic<std::int64_t> next{0};
  auto work = [&]() {
    Workspace ws;
    if (row_kernel) ws.resize(n, tab.width);
    for (std::int64_t r = next++; r < R; r = next++) {
      const std::int32_t* idx = indices + r * n;
      double* coef = out.coef.data() + r * p;
      int& rank = out.rank[static_cast<std::size_t>(r)];
      try {
        if (row_kernel && refit_rows_any(tab, idx, n, tol, ws, coef)) {
          rank = static_cast<int>(p);
        } else {
          refit_general(tab, idx, n, tol, coef, rank);
        }
      } catch (const std::exception& e) {
        out.status[static_cast<std::size_t>(r)] = 1;
        out.message[static_cast<std::size_t>(r)] = e.what();
      }
    }
  };
  const int nt =
      batch_thread_count(threads, static_cast<std::size_t>(std::max<std::int64_t>(R, 1)));
  std::vector<std::thread> pool;
  for (int t = 1; t < nt; ++t) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
  return out;
}

}  // namespace rmodels
