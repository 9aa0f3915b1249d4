// Penalized least squares for linear mixed models (see lmer.hpp for the maths and layout).
#include "lmer.hpp"

#include <nlopt.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <thread>

namespace rmodels {
namespace lmer {

namespace {
constexpr double kLog2Pi = 1.8378770664093454835606594728112;  // log(2 pi)

// Lower Cholesky factor of a small symmetric positive-definite matrix, in place (lower part).
bool small_chol(MatrixXd& M) {
  Eigen::LLT<Eigen::Ref<MatrixXd>> llt(M);
  return llt.info() == Eigen::Success;
}
constexpr int kSmallBlock = 8;
// The rest block gets a fill-reducing order and a tiled factorisation when it has at least
// kTileMinRest columns and the tiles to compute are at most kTileWorthIt of all tiles' work.
constexpr int kTileMinRest = 256;
constexpr int kTile = 32;
constexpr double kTileWorthIt = 0.85;

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
}  // namespace

PlsModel::PlsModel(const Eigen::Ref<const MatrixXd>& X, const Eigen::Ref<const VectorXd>& y,
                   const Eigen::Ref<const VectorXd>& weights,
                   const Eigen::Ref<const VectorXd>& offset, std::vector<ReTermInput> terms,
                   int method, int dense_limit)
    : n_(static_cast<int>(X.rows())),
      p_(static_cast<int>(X.cols())),
      K_(static_cast<int>(terms.size())) {
  if (y.size() != n_) throw std::invalid_argument("lmer: y and X differ in length");
  if (K_ == 0) throw std::invalid_argument("No random effects terms specified in formula");
  VectorXd sw = VectorXd::Ones(n_);
  if (weights.size() > 0) {
    if (weights.size() != n_) throw std::invalid_argument("lmer: weights of wrong length");
    for (int i = 0; i < n_; ++i) {
      if (!(weights[i] > 0)) throw std::invalid_argument("lmer: weights must be positive");
      sw[i] = std::sqrt(weights[i]);
      ldW_ += std::log(weights[i]);
    }
  }
  offset_ = offset.size() > 0 ? VectorXd(offset) : VectorXd::Zero(n_);
  if (offset_.size() != n_) throw std::invalid_argument("lmer: offset of wrong length");
  Xraw_ = X;
  Xy_.resize(n_, p_ + 1);
  Xy_.leftCols(p_) = sw.asDiagonal() * X;
  Xy_.col(p_) = sw.cwiseProduct(y - offset_);
  gamma_ = VectorXd::Zero(p_);
  if (p_ > 0) {
    Eigen::ColPivHouseholderQR<MatrixXd> qr(Xy_.leftCols(p_));
    gamma_ = qr.solve(Xy_.col(p_));
    if (!gamma_.allFinite()) gamma_.setZero();
    Xy_.col(p_) -= Xy_.leftCols(p_) * gamma_;
  }

  int rest_off = 0, th_off = 0;
  for (int t = 0; t < K_; ++t) {
    ReTermInput& in = terms[t];
    Term tm;
    tm.nlev = in.nlev;
    tm.k = static_cast<int>(in.zlhs.cols());
    if (in.codes.size() != n_ || in.zlhs.rows() != n_)
      throw std::invalid_argument("lmer: random-effect term of wrong length");
    for (int i = 0; i < n_; ++i)
      if (in.codes[i] < 0 || in.codes[i] >= in.nlev)
        throw std::invalid_argument("lmer: grouping code out of range");
    tm.codes = std::move(in.codes);
    tm.zraw = std::move(in.zlhs);
    tm.z = sw.asDiagonal() * tm.zraw;
    tm.theta_offset = th_off;
    th_off += tm.k * (tm.k + 1) / 2;
    if (t == 0) {
      tm.offset = 0;
      q1_ = tm.nlev * tm.k;
    } else {
      tm.offset = rest_off;
      rest_off += tm.nlev * tm.k;
      for (int c = 0; c < tm.nlev * tm.k; ++c) rest_term_of_.push_back(t);
    }
    terms_.push_back(std::move(tm));
  }
  qr_ = rest_off;
  ntheta_ = th_off;
  sparse_ = method == 2 || (method == 0 && qr_ > dense_limit);
  if (sparse_)
    build_sparse();
  else
    build_cross_products();
}

void PlsModel::build_sparse() {
  const int q = q1_ + qr_, p1 = p_ + 1;
  std::vector<Eigen::Triplet<double>> trip;
  AZX_ = MatrixXd::Zero(q, p1);
  A33_ = MatrixXd::Zero(p1, p1);
  A33_.selfadjointView<Eigen::Lower>().rankUpdate(Xy_.transpose());
  A33_ = A33_.selfadjointView<Eigen::Lower>();
  for (int i = 0; i < n_; ++i) {
    for (int t = 0; t < K_; ++t) {
      const Term& a = terms_[t];
      const int ra = term_base(t) + a.codes[i] * a.k;
      AZX_.middleRows(ra, a.k).noalias() += a.z.row(i).transpose() * Xy_.row(i);
      for (int s = 0; s < K_; ++s) {
        const Term& b = terms_[s];
        const int rb = term_base(s) + b.codes[i] * b.k;
        for (int f = 0; f < b.k; ++f)
          for (int e = 0; e < a.k; ++e) trip.emplace_back(ra + e, rb + f, a.z(i, e) * b.z(i, f));
      }
    }
  }
  AZZ_.resize(q, q);
  AZZ_.setFromTriplets(trip.begin(), trip.end());
  // Lambda: for each level block the full lower template, entries mapped to theta.
  std::vector<Eigen::Triplet<double>> lt;
  for (int t = 0; t < K_; ++t) {
    const Term& tm = terms_[t];
    for (int l = 0; l < tm.nlev; ++l) {
      const int base = term_base(t) + l * tm.k;
      for (int c = 0; c < tm.k; ++c)
        for (int r = c; r < tm.k; ++r) lt.emplace_back(base + r, base + c, 1.0);
    }
  }
  Lambda_.resize(q, q);
  Lambda_.setFromTriplets(lt.begin(), lt.end());
  Lambda_.makeCompressed();
  lambda_theta_.clear();
  for (int j = 0; j < q; ++j) {
    int t = 0;
    while (t + 1 < K_ && term_base(t + 1) <= j) ++t;
    const Term& tm = terms_[t];
    const int c = (j - term_base(t)) % tm.k;
    for (SpMat::InnerIterator it(Lambda_, j); it; ++it) {
      const int r = static_cast<int>(it.row()) - (j - c);
      lambda_theta_.push_back(tm.theta_offset + c * tm.k - c * (c - 1) / 2 + (r - c));
    }
  }
  SpMat I(q, q);
  I.setIdentity();
  Mz_ = SpMat((Lambda_.transpose() * AZZ_ * Lambda_).triangularView<Eigen::Lower>()) + I;
  sllt_.analyzePattern(Mz_);
}

void PlsModel::update_sparse(Criterion& cr) {
  // theta enters through Lambda's stored values only, so the pattern of Mz never changes.
  const int q = q1_ + qr_;
  double* lv = Lambda_.valuePtr();
  for (int j = 0, k = 0, t = 0; j < q; ++j) {
    while (t + 1 < K_ && term_base(t + 1) <= j) ++t;
    const int kt = terms_[t].k;
    const int c = (j - term_base(t)) % kt;
    for (SpMat::InnerIterator it(Lambda_, j); it; ++it, ++k) {
      const int r = static_cast<int>(it.row()) - (j - c);
      lv[k] = T_[t](r, c);
    }
  }
  SpMat I(q, q);
  I.setIdentity();
  Mz_ = SpMat((Lambda_.transpose() * AZZ_ * Lambda_).triangularView<Eigen::Lower>()) + I;
  sllt_.factorize(Mz_);
  if (sllt_.info() != Eigen::Success)
    throw std::runtime_error("lmer: sparse Cholesky factor of the random-effects block failed");
  cr.ldL2 = 2.0 * sllt_.matrixL().nestedExpression().diagonal().array().log().sum();
  RZX_ = sllt_.permutationP() * (Lambda_.transpose() * AZX_);
  sllt_.matrixL().solveInPlace(RZX_);
  L33_ = A33_;
  L33_.selfadjointView<Eigen::Lower>().rankUpdate(RZX_.transpose(), -1.0);
}

std::vector<MatrixXd> PlsModel::cond_var_sparse() {
  std::vector<MatrixXd> out(K_);
  const int q = q1_ + qr_;
  for (int t = 0; t < K_; ++t) {
    const Term& tm = terms_[t];
    out[t].resize(tm.k, tm.nlev * tm.k);
    MatrixXd E = MatrixXd::Zero(q, tm.k);
    for (int l = 0; l < tm.nlev; ++l) {
      const int base = term_base(t) + l * tm.k;
      E.middleRows(base, tm.k).setIdentity();
      const MatrixXd X = sllt_.solve(E);
      E.middleRows(base, tm.k).setZero();
      const MatrixXd V = X.middleRows(base, tm.k);
      out[t].middleCols(l * tm.k, tm.k) = T_[t] * V * T_[t].transpose();
    }
  }
  return out;
}

void PlsModel::build_cross_products() {
  const Term& t1 = terms_[0];
  const int k1 = t1.k, p1 = p_ + 1;
  A11_ = MatrixXd::Zero(k1, q1_);
  A31_ = MatrixXd::Zero(p1, q1_);
  if (k1 == 1) {
    for (int i = 0; i < n_; ++i) A11_(0, t1.codes[i]) += t1.z(i, 0) * t1.z(i, 0);
    for (int c = 0; c < p1; ++c) {
      const double* x = Xy_.col(c).data();
      for (int i = 0; i < n_; ++i) A31_(c, t1.codes[i]) += x[i] * t1.z(i, 0);
    }
  } else {
    for (int i = 0; i < n_; ++i) {
      const int c = t1.codes[i] * k1;
      A11_.middleCols(c, k1).noalias() += t1.z.row(i).transpose() * t1.z.row(i);
      A31_.middleCols(c, k1).noalias() += Xy_.row(i).transpose() * t1.z.row(i);
    }
  }
  A33_ = MatrixXd::Zero(p1, p1);
  A33_.selfadjointView<Eigen::Lower>().rankUpdate(Xy_.transpose());
  A33_ = A33_.selfadjointView<Eigen::Lower>();
  if (K_ == 1) return;

  A22_ = MatrixXd::Zero(qr_, qr_);
  A32_ = MatrixXd::Zero(p1, qr_);
  bool scalar_rest = true;
  for (int t = 1; t < K_; ++t) scalar_rest = scalar_rest && terms_[t].k == 1;
  if (scalar_rest) {
    // scalar terms: one entry per pair of terms and observation; A32 by a scatter of X'
    // (accumulated in small buffers: scattered additions into the large A22 miss the cache)
    for (int t = 1; t < K_; ++t) {
      const Term& a = terms_[t];
      VectorXd d = VectorXd::Zero(a.nlev);
      for (int i = 0; i < n_; ++i) d[a.codes[i]] += a.z(i, 0) * a.z(i, 0);
      for (int l = 0; l < a.nlev; ++l) A22_(a.offset + l, a.offset + l) = d[l];
      for (int s = t + 1; s < K_; ++s) {
        const Term& b = terms_[s];
        const bool small = static_cast<double>(a.nlev) * b.nlev <= 4.0e6;
        MatrixXd B = small ? MatrixXd::Zero(a.nlev, b.nlev) : MatrixXd();
        for (int i = 0; i < n_; ++i) {
          const double v = a.z(i, 0) * b.z(i, 0);
          if (small)
            B(a.codes[i], b.codes[i]) += v;
          else
            A22_(a.offset + a.codes[i], b.offset + b.codes[i]) += v;
        }
        if (small) A22_.block(a.offset, b.offset, a.nlev, b.nlev) = B;
        A22_.block(b.offset, a.offset, b.nlev, a.nlev) =
            A22_.block(a.offset, b.offset, a.nlev, b.nlev).transpose();
      }
      for (int c = 0; c < p1; ++c) {
        const double* x = Xy_.col(c).data();
        for (int i = 0; i < n_; ++i) A32_(c, a.offset + a.codes[i]) += x[i] * a.z(i, 0);
      }
    }
  } else {
    for (int i = 0; i < n_; ++i) {
      for (int t = 1; t < K_; ++t) {
        const Term& a = terms_[t];
        const int ra = a.offset + a.codes[i] * a.k;
        A32_.middleCols(ra, a.k).noalias() += Xy_.row(i).transpose() * a.z.row(i);
        for (int s = 1; s < K_; ++s) {
          const Term& b = terms_[s];
          const int rb = b.offset + b.codes[i] * b.k;
          A22_.block(ra, rb, a.k, b.k).noalias() += a.z.row(i).transpose() * b.z.row(i);
        }
      }
    }
  }
  // Z_r'WZ_1 by level of term 1: rows touched are whole level blocks of the rest terms.
  std::vector<std::vector<int>> obs_of(t1.nlev);
  for (int i = 0; i < n_; ++i) obs_of[t1.codes[i]].push_back(i);
  A21_.assign(t1.nlev, BlockCol());
  std::vector<int> starts;
  for (int j = 0; j < t1.nlev; ++j) {
    starts.clear();
    for (int i : obs_of[j])
      for (int t = 1; t < K_; ++t)
        starts.push_back(terms_[t].offset + terms_[t].codes[i] * terms_[t].k);
    std::sort(starts.begin(), starts.end());
    starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
    BlockCol& bc = A21_[j];
    std::vector<int> pos_of_start(starts.size());
    for (size_t s = 0; s < starts.size(); ++s) {
      pos_of_start[s] = static_cast<int>(bc.rows.size());
      const int kt = terms_[rest_term_of_[starts[s]]].k;
      for (int r = 0; r < kt; ++r) bc.rows.push_back(starts[s] + r);
    }
    bc.A = MatrixXd::Zero(static_cast<Eigen::Index>(bc.rows.size()), k1);
    for (int i : obs_of[j]) {
      for (int t = 1; t < K_; ++t) {
        const Term& a = terms_[t];
        const int st = a.offset + a.codes[i] * a.k;
        const auto it = std::lower_bound(starts.begin(), starts.end(), st);
        const int pos = pos_of_start[it - starts.begin()];
        bc.A.block(pos, 0, a.k, k1).noalias() += a.z.row(i).transpose() * t1.z.row(i);
      }
    }
    bc.L = bc.A;
    if (k1 > 1) {
      const std::ptrdiff_t ld = qr_;
      for (size_t b = 0; b < bc.rows.size(); ++b)
        for (size_t a = b; a < bc.rows.size(); ++a)
          bc.lower_idx.push_back(static_cast<std::ptrdiff_t>(bc.rows[b]) * ld + bc.rows[a]);
    }
  }
  for (int t = 1; t < K_; ++t) rest_scalar_ = rest_scalar_ && terms_[t].k == 1;
  if (k1 == 1 && rest_scalar_ && qr_ >= kTileMinRest) build_ordering();
  if (k1 == 1) build_gather();
  rest_theta_.resize(qr_);
  rest_theta_p_.resize(qr_);
}

void PlsModel::build_gather() {
  l21_offset_.assign(A21_.size() + 1, 0);
  l21_rows_.clear();
  l21_src_.clear();
  std::vector<int> count(qr_ + 1, 0), ord;
  for (size_t j = 0; j < A21_.size(); ++j) {
    const std::vector<int>& rows = A21_[j].rows;
    const int m = static_cast<int>(rows.size());
    l21_offset_[j + 1] = l21_offset_[j] + m;
    // rows in L22_ order, so that "a >= b" below means the lower triangle of L22_
    ord.resize(m);
    for (int a = 0; a < m; ++a) ord[a] = a;
    std::sort(ord.begin(), ord.end(), [&](int x, int y) { return rp(rows[x]) < rp(rows[y]); });
    for (int a = 0; a < m; ++a) {
      l21_rows_.push_back(rp(rows[ord[a]]));
      l21_src_.push_back(ord[a]);
      ++count[rp(rows[ord[a]]) + 1];
    }
  }
  col_ptr_.assign(qr_ + 1, 0);
  for (int c = 0; c < qr_; ++c) col_ptr_[c + 1] = col_ptr_[c] + count[c + 1];
  col_updates_.assign(col_ptr_[qr_], ColumnUpdate{0, 0, 0});
  std::vector<int> fill(col_ptr_.begin(), col_ptr_.end() - 1);
  for (size_t j = 0; j < A21_.size(); ++j) {
    const int off = l21_offset_[j], m = l21_offset_[j + 1] - off;
    for (int b = 0; b < m; ++b) col_updates_[fill[l21_rows_[off + b]]++] = ColumnUpdate{off, b, m};
  }
  l21_flat_.resize(l21_offset_.back());
}

void PlsModel::build_ordering() {
  // structure of Lambda_r'A22 Lambda_r + I - sum_j L21_j L21_j', lower triangle
  const Eigen::Index nr = qr_;
  std::vector<char> nz(static_cast<size_t>(nr) * nr, 0);
  std::vector<Eigen::Triplet<double>> a22;  // nonzeros of A22, lower triangle
  for (Eigen::Index c = 0; c < nr; ++c) {
    nz[c + c * nr] = 1;
    for (Eigen::Index r = c; r < nr; ++r)
      if (A22_(r, c) != 0.0) {
        nz[r + c * nr] = 1;
        a22.emplace_back(static_cast<int>(r), static_cast<int>(c), A22_(r, c));
      }
  }
  for (const BlockCol& bc : A21_)
    for (size_t x = 0; x < bc.rows.size(); ++x)
      for (size_t y = 0; y <= x; ++y) {
        const int a = std::max(bc.rows[x], bc.rows[y]), b = std::min(bc.rows[x], bc.rows[y]);
        nz[a + static_cast<size_t>(b) * nr] = 1;
      }
  SpMat S(nr, nr);  // AMD works on the pattern of S + S'
  {
    Eigen::Index total = 0;
    for (char v : nz) total += v;
    S.reserve(total);
    for (Eigen::Index c = 0; c < nr; ++c) {
      S.startVec(c);
      for (Eigen::Index r = c; r < nr; ++r)
        if (nz[r + c * nr]) S.insertBack(r, c) = 1.0;
    }
    S.finalize();
  }
  Eigen::AMDOrdering<int> amd;
  Eigen::PermutationMatrix<Eigen::Dynamic, Eigen::Dynamic, int> P;
  amd(S, P);  // P.indices()[new position] = rest column
  std::vector<int> perm(nr);
  for (Eigen::Index i = 0; i < nr; ++i) perm[P.indices()[i]] = static_cast<int>(i);

  // tile-level symbolic factorisation in the new order
  const int b = kTile;
  const int nt = static_cast<int>((nr + b - 1) / b);
  std::vector<char> tz(static_cast<size_t>(nt) * nt, 0);
  for (Eigen::Index c = 0; c < nr; ++c)
    for (Eigen::Index r = c; r < nr; ++r)
      if (nz[r + c * nr]) {
        const int I = perm[r] / b, J = perm[c] / b;
        tz[std::max(I, J) + static_cast<size_t>(std::min(I, J)) * nt] = 1;
      }
  double work = 0.0, dense = 0.0;
  for (int K = 0; K < nt; ++K)
    for (int J = K; J < nt; ++J) {
      dense += (nt - J);
      if (!tz[J + static_cast<size_t>(K) * nt]) continue;
      for (int I = J; I < nt; ++I)
        if (tz[I + static_cast<size_t>(K) * nt]) {
          tz[I + static_cast<size_t>(J) * nt] = 1;
          work += 1.0;
        }
    }
  if (work > kTileWorthIt * dense) return;  // nearly dense: the plain blocked factorisation
  perm_ = std::move(perm);
  tile_ = b;
  tile_below_.assign(nt, {});
  for (int K = 0; K < nt; ++K)
    for (int I = K + 1; I < nt; ++I)
      if (tz[I + static_cast<size_t>(K) * nt]) tile_below_[K].push_back(I);
  // lower triangle of P'A22 P, column by column
  std::vector<std::vector<std::pair<int, double>>> cols(nr);
  for (const auto& e : a22) {
    const int pr = perm_[e.row()], pc = perm_[e.col()];
    cols[std::min(pr, pc)].emplace_back(std::max(pr, pc), e.value());
  }
  a22_ptr_.assign(nr + 1, 0);
  a22_row_.clear();
  a22_val_.clear();
  for (Eigen::Index c = 0; c < nr; ++c) {
    std::sort(cols[c].begin(), cols[c].end());
    for (const auto& e : cols[c]) {
      a22_row_.push_back(e.first);
      a22_val_.push_back(e.second);
    }
    a22_ptr_[c + 1] = static_cast<int>(a22_row_.size());
  }
  A22_.resize(0, 0);
}

MatrixXd PlsModel::lower_template(int t, const VectorXd& theta) const {
  const Term& tm = terms_[t];
  MatrixXd T = MatrixXd::Zero(tm.k, tm.k);
  int idx = tm.theta_offset;
  for (int c = 0; c < tm.k; ++c)
    for (int r = c; r < tm.k; ++r) T(r, c) = theta[idx++];
  return T;
}

// rows: complete level blocks of rest terms; M <- (Lambda_r' M) restricted to those rows.
void PlsModel::apply_lambda_rest_left(std::vector<int>& rows, MatrixXd& M,
                                      const std::vector<MatrixXd>& T) const {
  Eigen::Index pos = 0;
  const Eigen::Index m = static_cast<Eigen::Index>(rows.size());
  while (pos < m) {
    const int t = rest_term_of_[rows[pos]];
    const int k = terms_[t].k;
    if (k == 1) {
      M.row(pos) *= T[t](0, 0);
    } else {
      MatrixXd blk = T[t].transpose() * M.middleRows(pos, k);
      M.middleRows(pos, k) = blk;
    }
    pos += k;
  }
}

// Blocked factor (MixedModels.jl layout); leaves L33 = A33 - L31 L31' - L32 L32' (unfactored).
void PlsModel::update_blocked(Criterion& cr) {
  const Term& t1 = terms_[0];
  const int k1 = t1.k, p1 = p_ + 1;
  const MatrixXd& T1 = T_[0];
  // Term 1: L11_j = chol(T1' A11_j T1 + I), L31_j = A31_j T1 L11_j^-T.
  L11_.resize(k1, q1_);
  L31_.resize(p1, q1_);
  if (k1 == 1) {
    const double th = T1(0, 0);
    for (int j = 0; j < q1_; ++j) {
      const double l = std::sqrt(th * th * A11_(0, j) + 1.0);
      L11_(0, j) = l;
      cr.ldL2 += 2.0 * std::log(l);
      L31_.col(j) = A31_.col(j) * (th / l);
    }
  } else if (k1 <= kSmallBlock) {
    for (int j = 0; j < t1.nlev; ++j)
      cr.ldL2 +=
          factor_small_block(A11_.data() + static_cast<std::ptrdiff_t>(j) * k1 * k1,
                             A31_.data() + static_cast<std::ptrdiff_t>(j) * k1 * p1, k1, p1,
                             T1.data(), L11_.data() + static_cast<std::ptrdiff_t>(j) * k1 * k1,
                             L31_.data() + static_cast<std::ptrdiff_t>(j) * k1 * p1);
  } else {
    MatrixXd M(k1, k1);
    for (int j = 0; j < t1.nlev; ++j) {
      M.noalias() = T1.transpose() * A11_.middleCols(j * k1, k1) * T1;
      M.diagonal().array() += 1.0;
      small_chol(M);
      M.triangularView<Eigen::StrictlyUpper>().setZero();
      L11_.middleCols(j * k1, k1) = M;
      cr.ldL2 += 2.0 * M.diagonal().array().log().sum();
      auto B = L31_.middleCols(j * k1, k1);
      B.noalias() = A31_.middleCols(j * k1, k1) * T1;
      M.transpose().triangularView<Eigen::Upper>().solveInPlace<Eigen::OnTheRight>(B);
    }
  }

  L33_ = A33_;
  L33_.selfadjointView<Eigen::Lower>().rankUpdate(L31_, -1.0);

  if (K_ > 1) {
    // L21_j = Lambda_r' A21_j T1 L11_j^-T (pattern of A21_j).
    if (rest_scalar_)
      for (int c = 0; c < qr_; ++c) {
        rest_theta_[c] = T_[rest_term_of_[c]](0, 0);
        rest_theta_p_[rp(c)] = rest_theta_[c];
      }
    for (int j = 0; j < t1.nlev; ++j) {
      BlockCol& bc = A21_[j];
      if (k1 == 1 && rest_scalar_) {
        const double f = T1(0, 0) / L11_(0, j);
        const Eigen::Index m = bc.A.rows();
        for (Eigen::Index a = 0; a < m; ++a) bc.L(a, 0) = bc.A(a, 0) * f * rest_theta_[bc.rows[a]];
        continue;
      }
      bc.L.noalias() = bc.A * T1;
      apply_lambda_rest_left(bc.rows, bc.L, T_);
      if (k1 == 1) {
        bc.L /= L11_(0, j);
      } else {
        const MatrixXd Lj = L11_.middleCols(j * k1, k1);
        Lj.transpose().triangularView<Eigen::Upper>().solveInPlace<Eigen::OnTheRight>(bc.L);
      }
    }
    // L22 = chol(Lambda_r' A22 Lambda_r + I - sum_j L21_j L21_j').
    if (k1 == 1) {
      for (int j = 0; j < t1.nlev; ++j) {
        const double* lj = A21_[j].L.data();
        for (int e = l21_offset_[j]; e < l21_offset_[j + 1]; ++e) l21_flat_[e] = lj[l21_src_[e]];
      }
    }
    // col -= sum_j L21_j[c] L21_j (scalar term 1): the updates of column c, from the flattened
    // L21 blocks
    auto update_column = [this](double* col, int c) {
      const double* v = l21_flat_.data();
      const int* rows = l21_rows_.data();
      for (int e = col_ptr_[c]; e < col_ptr_[c + 1]; ++e) {
        const ColumnUpdate& u = col_updates_[e];
        const double* lj = v + u.offset;
        const int* rj = rows + u.offset;
        const double lb = lj[u.b];
        for (int a = u.b; a < u.m; ++a) col[rj[a]] -= lb * lj[a];
      }
    };
    if (tile_ > 0) {
      // fill-reducing order (scalar terms): column by column, only the tiles that can be
      // nonzero (the others hold zeros from the first evaluation on), the update of the
      // column from term 1 applied while it is in cache
      if (L22_.rows() != qr_ || L22_.cols() != qr_) L22_.setZero(qr_, qr_);
      const double* th = rest_theta_p_.data();
      for (int c = 0; c < qr_; ++c) {
        const double dc = th[c];
        double* col = L22_.data() + static_cast<std::ptrdiff_t>(c) * qr_;
        const int J = c / tile_;
        auto zero = [&](int r0, int r1) { std::fill(col + r0, col + r1, 0.0); };
        zero(c, std::min((J + 1) * tile_, qr_));
        for (int I : tile_below_[J]) zero(I * tile_, std::min((I + 1) * tile_, qr_));
        for (int e = a22_ptr_[c]; e < a22_ptr_[c + 1]; ++e) {
          const int r = a22_row_[e];
          col[r] = th[r] * a22_val_[e] * dc;
        }
        col[c] += 1.0;
        update_column(col, c);
      }
    } else {
      if (rest_scalar_) {
        // only the lower triangle is read by the factorisation
        L22_.resize(qr_, qr_);
        const double* th = rest_theta_p_.data();
        for (int c = 0; c < qr_; ++c) {
          const double dc = th[c];
          const double* src = A22_.data() + static_cast<std::ptrdiff_t>(c) * qr_;
          double* dst = L22_.data() + static_cast<std::ptrdiff_t>(c) * qr_;
          for (int r = c; r < qr_; ++r) dst[r] = th[r] * src[r] * dc;
        }
      } else {
        L22_ = A22_;
        for (int c = 0; c < qr_;) {
          const int t = rest_term_of_[c];
          const int k = terms_[t].k;
          MatrixXd rows = T_[t].transpose() * L22_.middleRows(c, k);
          L22_.middleRows(c, k) = rows;
          MatrixXd cols = L22_.middleCols(c, k) * T_[t];
          L22_.middleCols(c, k) = cols;
          c += k;
        }
      }
      L22_.diagonal().array() += 1.0;
      double* l22 = L22_.data();
      if (k1 == 1) {
        for (int c = 0; c < qr_; ++c) update_column(l22 + static_cast<std::ptrdiff_t>(c) * qr_, c);
      } else {
        MatrixXd G;
        for (int j = 0; j < t1.nlev; ++j) {
          const BlockCol& bc = A21_[j];
          const int m = static_cast<int>(bc.rows.size());
          if (m == 0) continue;
          const std::ptrdiff_t* idx = bc.lower_idx.data();
          G.noalias() = bc.L * bc.L.transpose();
          for (int b = 0; b < m; ++b)
            for (int a = b; a < m; ++a) l22[*idx++] -= G(a, b);
        }
      }
    }
    const bool ok = tile_ > 0 ? tiled_cholesky_lower(L22_, tile_, tile_below_, threads_)
                              : dense_cholesky_lower(L22_, threads_);
    if (!ok) throw std::runtime_error("lmer: Cholesky factor of the random-effects block failed");
    cr.ldL2 += 2.0 * L22_.diagonal().array().log().sum();

    // L32 = (A32 Lambda_r - sum_j L31_j L21_j') L22^-T.
    L32_ = A32_;
    for (int c = 0; c < qr_;) {
      const int t = rest_term_of_[c];
      const int k = terms_[t].k;
      if (k == 1) {
        L32_.col(c) *= T_[t](0, 0);
      } else {
        MatrixXd cols = L32_.middleCols(c, k) * T_[t];
        L32_.middleCols(c, k) = cols;
      }
      c += k;
    }
    MatrixXd P;
    for (int j = 0; j < t1.nlev; ++j) {
      const BlockCol& bc = A21_[j];
      const int m = static_cast<int>(bc.rows.size());
      if (m == 0) continue;
      P.noalias() = L31_.middleCols(j * k1, k1) * bc.L.transpose();
      for (int a = 0; a < m; ++a) L32_.col(bc.rows[a]) -= P.col(a);
    }
    if (!perm_.empty()) {  // columns in L22_'s order
      MatrixXd Q(p1, qr_);
      for (int c = 0; c < qr_; ++c) Q.col(perm_[c]) = L32_.col(c);
      L32_.swap(Q);
    }
    // L32' = L22^-1 (A32 Lambda_r - ...)': a left solve with p + 1 right-hand sides
    MatrixXd L32t = L32_.transpose();
    L22_.triangularView<Eigen::Lower>().solveInPlace(L32t);
    L32_ = L32t.transpose();
    L33_.selfadjointView<Eigen::Lower>().rankUpdate(L32_, -1.0);
  }
}

Criterion PlsModel::update_theta(const VectorXd& theta) {
  if (theta.size() != ntheta_) throw std::invalid_argument("lmer: theta of wrong length");
  T_.resize(K_);
  for (int t = 0; t < K_; ++t) T_[t] = lower_template(t, theta);
  Criterion cr;
  cr.ldW = ldW_;
  if (sparse_)
    update_sparse(cr);
  else
    update_blocked(cr);

  Eigen::LLT<Eigen::Ref<MatrixXd>> llt33(L33_);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (llt33.info() != Eigen::Success) {
    // Only the last pivot can be non-positive for a full-rank X: a perfect fit (pwrss = 0).
    cr.ldRX2 = nan;
    cr.pwrss = nan;
  } else {
    for (int i = 0; i < p_; ++i) cr.ldRX2 += 2.0 * std::log(L33_(i, i));
    cr.pwrss = L33_(p_, p_) * L33_(p_, p_);
  }
  const double n = n_, nmp = n_ - p_;
  cr.deviance_ml = cr.ldL2 - ldW_ + n * (1.0 + kLog2Pi + std::log(cr.pwrss / n));
  cr.reml = cr.ldL2 - ldW_ + cr.ldRX2 + nmp * (1.0 + kLog2Pi + std::log(cr.pwrss / nmp));
  return cr;
}

double PlsModel::objective(const VectorXd& theta, bool reml) {
  const Criterion cr = update_theta(theta);
  return reml ? cr.reml : cr.deviance_ml;
}

Solution PlsModel::solve(const VectorXd& theta) {
  Solution s;
  s.crit = update_theta(theta);
  const int p1 = p_ + 1;
  const auto LBB = L33_.topLeftCorner(p_, p_);
  s.RX = LBB.triangularView<Eigen::Lower>();
  s.beta = L33_.row(p_).head(p_).transpose();
  LBB.triangularView<Eigen::Lower>().transpose().solveInPlace(s.beta);
  VectorXd c(p1);
  c.head(p_) = -s.beta;
  s.beta += gamma_;
  c[p_] = 1.0;
  if (sparse_) {
    VectorXd r = RZX_ * c;
    sllt_.matrixU().solveInPlace(r);
    s.u = sllt_.permutationPinv() * r;
  } else {
    s.u = solve_u_blocked(c);
  }
  s.b.resize(q1_ + qr_);
  s.fitted = Xraw_ * s.beta + offset_;
  for (int t = 0; t < K_; ++t) {
    const Term& tm = terms_[t];
    const int base = term_base(t);
    for (int l = 0; l < tm.nlev; ++l)
      s.b.segment(base + l * tm.k, tm.k) = T_[t] * s.u.segment(base + l * tm.k, tm.k);
    for (int i = 0; i < n_; ++i)
      s.fitted[i] += tm.zraw.row(i).dot(s.b.segment(base + tm.codes[i] * tm.k, tm.k));
  }
  return s;
}

// u from the blocked factor: [L11' L21'; 0 L22'] u = [L31' c; L32' c].
VectorXd PlsModel::solve_u_blocked(const VectorXd& c) const {
  const int k1 = terms_[0].k;
  VectorXd r1 = L31_.transpose() * c;
  VectorXd u2;
  if (K_ > 1) {
    u2 = L32_.transpose() * c;
    L22_.triangularView<Eigen::Lower>().transpose().solveInPlace(u2);
    if (!perm_.empty()) {  // back from L22_'s order
      VectorXd v(qr_);
      for (int c = 0; c < qr_; ++c) v[c] = u2[perm_[c]];
      u2.swap(v);
    }
    for (int j = 0; j < terms_[0].nlev; ++j) {
      const BlockCol& bc = A21_[j];
      for (size_t a = 0; a < bc.rows.size(); ++a)
        r1.segment(j * k1, k1) -=
            bc.L.row(static_cast<Eigen::Index>(a)).transpose() * u2[bc.rows[a]];
    }
  }
  for (int j = 0; j < terms_[0].nlev; ++j) {
    auto seg = r1.segment(j * k1, k1);
    const MatrixXd Lj = L11_.middleCols(j * k1, k1);
    Lj.triangularView<Eigen::Lower>().transpose().solveInPlace(seg);
  }
  VectorXd u(q1_ + qr_);
  u.head(q1_) = r1;
  if (K_ > 1) u.tail(qr_) = u2;
  return u;
}

std::vector<MatrixXd> PlsModel::cond_var_blocks(const VectorXd& theta) {
  update_theta(theta);
  if (sparse_) return cond_var_sparse();
  const int k1 = terms_[0].k;
  std::vector<MatrixXd> out(K_);
  MatrixXd Linv22;
  if (K_ > 1) {
    Linv22 = MatrixXd::Identity(qr_, qr_);
    L22_.triangularView<Eigen::Lower>().solveInPlace(Linv22);
  }
  // Term 1: block = L11_j^-T L11_j^-1 + W_j'W_j with W_j = L22^-1 L21_j L11_j^-1.
  out[0].resize(k1, q1_);
  for (int j = 0; j < terms_[0].nlev; ++j) {
    const MatrixXd Lj = L11_.middleCols(j * k1, k1);
    MatrixXd Li = MatrixXd::Identity(k1, k1);
    Lj.triangularView<Eigen::Lower>().solveInPlace(Li);
    MatrixXd V = Li.transpose() * Li;
    if (K_ > 1 && !A21_[j].rows.empty()) {
      const BlockCol& bc = A21_[j];
      MatrixXd W = MatrixXd::Zero(qr_, k1);
      const MatrixXd LL = bc.L * Li;  // m x k1
      for (size_t a = 0; a < bc.rows.size(); ++a)
        W.noalias() += Linv22.col(rp(bc.rows[a])) * LL.row(static_cast<Eigen::Index>(a));
      V.noalias() += W.transpose() * W;
    }
    out[0].middleCols(j * k1, k1) = T_[0] * V * T_[0].transpose();
  }
  for (int t = 1; t < K_; ++t) {
    const Term& tm = terms_[t];
    out[t].resize(tm.k, tm.nlev * tm.k);
    for (int l = 0; l < tm.nlev; ++l) {
      // (with a fill-reducing order every rest term is scalar: one column at rp(c))
      const int c = rp(tm.offset + l * tm.k);
      const auto S = Linv22.block(c, c, qr_ - c, tm.k);
      MatrixXd V = S.transpose() * S;
      out[t].middleCols(l * tm.k, tm.k) = T_[t] * V * T_[t].transpose();
    }
  }
  return out;
}

namespace {
struct NloptData {
  PlsModel* model;
  bool reml;
  int feval;
  VectorXd theta;
  bool trace;
  std::vector<double> path;
};

double nlopt_objective(unsigned n, const double* x, double* grad, void* data) {
  (void)grad;
  auto* d = static_cast<NloptData*>(data);
  ++d->feval;
  d->theta = Eigen::Map<const VectorXd>(x, n);
  const double f = d->model->objective(d->theta, d->reml);
  if (d->trace) {
    d->path.insert(d->path.end(), x, x + n);
    d->path.push_back(f);
  }
  return std::isfinite(f) ? f : std::numeric_limits<double>::max();
}
}  // namespace

int bobyqa_minimize(unsigned n, double* x, const double* lower, const double* upper,
                    BobyqaObjective f, void* data, double xtol_abs, double ftol_abs,
                    double xtol_rel, int maxeval, double* fmin, void** handle) {
  nlopt_opt opt = nlopt_create(NLOPT_LN_BOBYQA, n);
  if (!opt) throw std::runtime_error("cannot create the NLopt optimizer");
  std::vector<double> lb(n), ub(n);
  for (unsigned i = 0; i < n; ++i) {
    lb[i] = std::isfinite(lower[i]) ? lower[i] : -HUGE_VAL;
    ub[i] = (upper && std::isfinite(upper[i])) ? upper[i] : HUGE_VAL;
  }
  nlopt_set_lower_bounds(opt, lb.data());
  if (upper) nlopt_set_upper_bounds(opt, ub.data());
  nlopt_set_min_objective(opt, f, data);
  nlopt_set_xtol_rel(opt, xtol_rel);
  nlopt_set_xtol_abs1(opt, xtol_abs);
  nlopt_set_ftol_abs(opt, ftol_abs);
  nlopt_set_maxeval(opt, maxeval);
  if (handle) *handle = opt;
  const nlopt_result status = nlopt_optimize(opt, x, fmin);
  nlopt_destroy(opt);
  return static_cast<int>(status);
}

OptimResult PlsModel::optimize(const VectorXd& theta0, const VectorXd& lower, bool reml,
                               double xtol_abs, double ftol_abs, double xtol_rel, int maxeval,
                               bool trace) {
  const unsigned nth = static_cast<unsigned>(ntheta_);
  std::vector<double> x(theta0.data(), theta0.data() + nth);
  NloptData data{this, reml, 0, VectorXd(), trace, {}};
  double fmin = 0;
  const int status = bobyqa_minimize(nth, x.data(), lower.data(), nullptr, nlopt_objective, &data,
                                     xtol_abs, ftol_abs, xtol_rel, maxeval, &fmin);
  OptimResult res;
  res.theta = Eigen::Map<VectorXd>(x.data(), nth);
  res.fval = fmin;
  res.feval = data.feval;
  res.status = status;
  if (trace) {
    const Eigen::Index cols = nth + 1;
    res.path =
        Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
            data.path.data(), static_cast<Eigen::Index>(data.path.size()) / cols, cols);
  }
  return res;
}

}  // namespace lmer
}  // namespace rmodels
