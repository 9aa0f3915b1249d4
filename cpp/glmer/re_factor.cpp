// The sparse PIRLS factor of a glmer model (re_factor.hpp): the pattern analysed once, the
// numeric factor per working weights, the solution for u (and beta) from it.
#include "re_factor.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

namespace rmodels {
namespace glmer {

namespace {
// The Schur complement is accumulated in a dense block up to this many columns.
constexpr int kDenseSchur = 1024;

// Lower-triangle (row >= col) pairs of the entries' columns, as (col, row) keys.
using Key = std::pair<int, int>;

Key lower_key(int c1, int c2) { return c1 <= c2 ? Key{c1, c2} : Key{c2, c1}; }

// Entries (term, effect) of the terms and their raw values and columns per observation.
void set_entries(const std::vector<lmer::ReTermInput>& terms, int n, RePattern& P) {
  int base = 0, th = 0;
  for (size_t t = 0; t < terms.size(); ++t) {
    const int k = static_cast<int>(terms[t].zlhs.cols());
    if (k == 0 || terms[t].nlev <= 0)
      throw std::invalid_argument("lmer: a random-effect term has no columns or no levels");
    if (terms[t].codes.size() != n || terms[t].zlhs.rows() != n)
      throw std::invalid_argument("lmer: random-effect term of wrong length");
    P.term_k.push_back(k);
    P.term_nlev.push_back(terms[t].nlev);
    P.term_base.push_back(base);
    P.term_theta.push_back(th);
    for (int e = 0; e < k; ++e) {
      P.entry_term.push_back(static_cast<int>(t));
      P.entry_effect.push_back(e);
    }
    base += terms[t].nlev * k;
    th += k * (k + 1) / 2;
  }
  P.n = n;
  P.q = base;
  P.kall = static_cast<int>(P.entry_term.size());
  P.cols.resize(static_cast<size_t>(n) * P.kall);
  P.z.resize(P.cols.size());
  for (int i = 0; i < n; ++i)
    for (int a = 0; a < P.kall; ++a) {
      const int t = P.entry_term[a], e = P.entry_effect[a];
      const int code = terms[t].codes[i];
      if (code < 0 || code >= terms[t].nlev)
        throw std::invalid_argument("lmer: grouping code out of range");
      P.cols[static_cast<size_t>(i) * P.kall + a] = P.term_base[t] + code * P.term_k[t] + e;
      P.z[static_cast<size_t>(i) * P.kall + a] = terms[t].zlhs(i, e);
    }
}
// The Schur path's structure: S's pattern (the other terms' block of the pattern plus, for each
// level j of the scalar first term, the products of its entries below the diagonal), where the
// block's values and each product land in it.
void set_schur(RePattern& P) {
  using SpMat = RePattern::SpMat;
  const int q1 = P.term_nlev[0], qr = P.q - q1;
  const SpMat& M = P.pattern;
  const int* Mp = M.outerIndexPtr();
  const int* Mi = M.innerIndexPtr();
  std::vector<Key> keys;
  for (int j = q1; j < P.q; ++j)
    for (int e = Mp[j]; e < Mp[j + 1]; ++e) keys.emplace_back(j - q1, Mi[e] - q1);
  for (int j = 0; j < q1; ++j)  // rows after the diagonal are sorted, all >= q1
    for (int a = Mp[j] + 1; a < Mp[j + 1]; ++a)
      for (int b = Mp[j] + 1; b <= a; ++b) keys.emplace_back(Mi[b] - q1, Mi[a] - q1);
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  P.schur_pattern.resize(qr, qr);
  P.schur_pattern.reserve(static_cast<Eigen::Index>(keys.size()));
  for (int j = 0, k = 0; j < qr; ++j) {
    P.schur_pattern.startVec(j);
    for (; k < static_cast<int>(keys.size()) && keys[k].first == j; ++k)
      P.schur_pattern.insertBack(keys[k].second, j) = 0.0;
  }
  P.schur_pattern.finalize();
  P.schur_pattern.makeCompressed();
  auto position = [&](int c, int r) {
    return static_cast<int>(std::lower_bound(keys.begin(), keys.end(), Key{c, r}) - keys.begin());
  };
  for (int j = q1; j < P.q; ++j)
    for (int e = Mp[j]; e < Mp[j + 1]; ++e) {
      P.c_src.push_back(e);
      P.c_dst.push_back(position(j - q1, Mi[e] - q1));
    }
  for (int j = 0; j < q1 && qr > kDenseSchur; ++j)
    for (int a = Mp[j] + 1; a < Mp[j + 1]; ++a)
      for (int b = Mp[j] + 1; b <= a; ++b) P.l21_pos.push_back(position(Mi[b] - q1, Mi[a] - q1));
  P.q1 = q1;
}
}  // namespace

std::shared_ptr<const RePattern> make_re_pattern(const std::vector<lmer::ReTermInput>& terms,
                                                 int n) {
  auto P = std::make_shared<RePattern>();
  set_entries(terms, n, *P);
  const int ka = P->kall;
  for (int a = 0; a < ka; ++a)
    for (int b = 0; b <= a; ++b) {
      P->pair_a.push_back(a);
      P->pair_b.push_back(b);
    }
  P->npairs = static_cast<int>(P->pair_a.size());
  std::vector<Key> keys;
  keys.reserve(static_cast<size_t>(n) * P->npairs + P->q);
  for (int j = 0; j < P->q; ++j) keys.emplace_back(j, j);
  for (int i = 0; i < n; ++i) {
    const int* c = P->cols.data() + static_cast<size_t>(i) * ka;
    for (int m = 0; m < P->npairs; ++m) keys.push_back(lower_key(c[P->pair_a[m]], c[P->pair_b[m]]));
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  // compressed columns: keys sorted by (col, row) are already in storage order
  P->pattern.resize(P->q, P->q);
  P->pattern.reserve(static_cast<Eigen::Index>(keys.size()));
  for (int j = 0, k = 0; j < P->q; ++j) {
    P->pattern.startVec(j);
    for (; k < static_cast<int>(keys.size()) && keys[k].first == j; ++k)
      P->pattern.insertBack(keys[k].second, j) = 0.0;
  }
  P->pattern.finalize();
  P->pattern.makeCompressed();
  auto position = [&](const Key& key) {
    return static_cast<int>(std::lower_bound(keys.begin(), keys.end(), key) - keys.begin());
  };
  P->diag_pos.resize(P->q);
  for (int j = 0; j < P->q; ++j) P->diag_pos[j] = position(Key{j, j});
  P->pos.resize(static_cast<size_t>(n) * P->npairs);
  for (int i = 0; i < n; ++i) {
    const int* c = P->cols.data() + static_cast<size_t>(i) * ka;
    for (int m = 0; m < P->npairs; ++m)
      P->pos[static_cast<size_t>(i) * P->npairs + m] =
          position(lower_key(c[P->pair_a[m]], c[P->pair_b[m]]));
  }
  if (P->term_k.size() > 1 && P->term_k[0] == 1) set_schur(*P);
  return P;
}

ReFactor::ReFactor(std::shared_ptr<const RePattern> pattern)
    : pat_(std::move(pattern)), v_(pat_->z), M_(pat_->pattern) {
  if (pat_->q1 > 0) {
    S_ = pat_->schur_pattern;
    l11_.resize(pat_->q1);
    l21_.resize(M_.nonZeros());
    llt_.analyzePattern(S_);
  } else {
    llt_.analyzePattern(M_);
  }
  T_.resize(pat_->term_k.size());
}

void ReFactor::set_theta(const VectorXd& theta) {
  const RePattern& P = *pat_;
  for (size_t t = 0; t < T_.size(); ++t) {
    const int k = P.term_k[t];
    T_[t] = MatrixXd::Zero(k, k);
    int idx = P.term_theta[t];
    for (int c = 0; c < k; ++c)
      for (int r = c; r < k; ++r) T_[t](r, c) = theta[idx++];
  }
  const int ka = P.kall;
  for (int i = 0; i < P.n; ++i) {
    const double* z = P.z.data() + static_cast<size_t>(i) * ka;
    double* v = v_.data() + static_cast<size_t>(i) * ka;
    for (int a = 0; a < ka;) {
      const int t = P.entry_term[a], k = P.term_k[t];
      // (z' T)_e = sum_{r >= e} z_r T(r, e) over the term's k entries starting at a
      for (int e = 0; e < k; ++e) {
        double s = 0;
        for (int r = e; r < k; ++r) s += z[a + r] * T_[t](r, e);
        v[a + e] = s;
      }
      a += k;
    }
  }
}

void ReFactor::factor(const VectorXd& w, const MatrixXd& X) {
  const RePattern& P = *pat_;
  double* val = M_.valuePtr();
  std::fill(val, val + M_.nonZeros(), 0.0);
  const int ka = P.kall, np = P.npairs;
  const int* pa = P.pair_a.data();
  const int* pb = P.pair_b.data();
  for (int i = 0; i < P.n; ++i) {
    const double wi = w[i];
    const double* v = v_.data() + static_cast<size_t>(i) * ka;
    const int* pos = P.pos.data() + static_cast<size_t>(i) * np;
    for (int m = 0; m < np; ++m) val[pos[m]] += wi * v[pa[m]] * v[pb[m]];
  }
  for (int j = 0; j < P.q; ++j) val[P.diag_pos[j]] += 1.0;
  if (P.q1 > 0) {
    factor_schur();
  } else {
    llt_.factorize(M_);
    if (llt_.info() != Eigen::Success)
      throw std::runtime_error("glmer: Cholesky factor of the random-effects block failed");
    ldL2_ = 2.0 * llt_.matrixL().nestedExpression().diagonal().array().log().sum();
  }
  const Eigen::Index p = X.cols();
  ldRX2_ = 0;
  if (p == 0) {
    RX_.resize(0, 0);
    return;
  }
  MatrixXd ZtWXt = MatrixXd::Zero(p, P.q);  // (Lambda'Z'WX)', one column per random effect
  VectorXd xi(p);
  for (int i = 0; i < P.n; ++i) {
    const double* v = v_.data() + static_cast<size_t>(i) * ka;
    const int* c = P.cols.data() + static_cast<size_t>(i) * ka;
    xi = X.row(i).transpose();
    for (int a = 0; a < ka; ++a) {
      const double f = w[i] * v[a];
      double* dst = ZtWXt.col(c[a]).data();
      for (Eigen::Index j = 0; j < p; ++j) dst[j] += f * xi[j];
    }
  }
  MatrixXd ZtWX = ZtWXt.transpose();
  for (Eigen::Index j = 0; j < p; ++j) forward(ZtWX.col(j));
  RZX_.swap(ZtWX);
  const MatrixXd Xs = w.cwiseSqrt().asDiagonal() * X;
  MatrixXd A = MatrixXd::Zero(p, p);
  A.selfadjointView<Eigen::Lower>().rankUpdate(Xs.transpose());
  A.selfadjointView<Eigen::Lower>().rankUpdate(RZX_.transpose(), -1.0);
  Eigen::LLT<MatrixXd> llt(A.selfadjointView<Eigen::Lower>());
  if (llt.info() != Eigen::Success)
    throw std::runtime_error("glmer: Cholesky factor of the fixed-effects block failed");
  RX_ = llt.matrixL();
  ldRX2_ = 2.0 * RX_.diagonal().array().log().sum();
}

void ReFactor::solve(const VectorXd& w, const VectorXd& r, const MatrixXd& X, VectorXd& u,
                     VectorXd& beta) const {
  const RePattern& P = *pat_;
  const int ka = P.kall;
  VectorXd c = VectorXd::Zero(P.q);
  for (int i = 0; i < P.n; ++i) {
    const double f = w[i] * r[i];
    const double* v = v_.data() + static_cast<size_t>(i) * ka;
    const int* cl = P.cols.data() + static_cast<size_t>(i) * ka;
    for (int a = 0; a < ka; ++a) c[cl[a]] += f * v[a];
  }
  forward(c);
  if (X.cols() > 0) {
    beta = X.transpose() * w.cwiseProduct(r) - RZX_.transpose() * c;
    RX_.triangularView<Eigen::Lower>().solveInPlace(beta);
    RX_.triangularView<Eigen::Lower>().transpose().solveInPlace(beta);
    c.noalias() -= RZX_ * beta;
  } else {
    beta.resize(0);
  }
  backward(c);
  u.swap(c);
}

// L11 = D^1/2, L21 = B D^-1/2 column by column of the first term, S = C - L21 L21' and its
// sparse factor; log|L|^2 from both.
void ReFactor::factor_schur() {
  const RePattern& P = *pat_;
  const double* mv = M_.valuePtr();
  const int* Mp = M_.outerIndexPtr();
  const int* Mi = M_.innerIndexPtr();
  double* sv = S_.valuePtr();
  const int q1 = P.q1, qr = P.q - q1;
  const bool dense = qr <= kDenseSchur;
  if (dense) {
    // S accumulated in a dense block (the same operations in the same order as below)
    Sd_.setZero(qr, qr);
    for (int j = q1; j < P.q; ++j)
      for (int e = Mp[j]; e < Mp[j + 1]; ++e) Sd_(Mi[e] - q1, j - q1) = mv[e];
  } else {
    std::fill(sv, sv + S_.nonZeros(), 0.0);
    for (size_t e = 0; e < P.c_src.size(); ++e) sv[P.c_dst[e]] = mv[P.c_src[e]];
  }
  double ld1 = 0;
  const int* pos = P.l21_pos.data();
  for (int j = 0; j < q1; ++j) {
    const double l = std::sqrt(mv[Mp[j]]);
    l11_[j] = l;
    ld1 += std::log(l);
    const int b0 = Mp[j] + 1, b1 = Mp[j + 1];
    for (int e = b0; e < b1; ++e) l21_[e] = mv[e] / l;
    if (dense) {
      // rows of one contiguous range (e.g. fully crossed factors): contiguous updates
      const bool run = b1 > b0 && Mi[b1 - 1] - Mi[b0] == b1 - 1 - b0;
      for (int b = b0; b < b1; ++b) {
        const double lb = l21_[b];
        double* col = Sd_.col(Mi[b] - q1).data() - q1;
        if (run) {
          double* dst = col + Mi[b];
          const double* src = l21_.data() + b;
          for (int k = 0; k < b1 - b; ++k) dst[k] -= lb * src[k];
        } else {
          for (int a = b; a < b1; ++a) col[Mi[a]] -= lb * l21_[a];
        }
      }
      continue;
    }
    for (int a = b0; a < b1; ++a) {
      const double la = l21_[a];
      for (int b = b0; b <= a; ++b) sv[*pos++] -= l21_[b] * la;
    }
  }
  if (dense) {
    const int* Sp = S_.outerIndexPtr();
    const int* Si = S_.innerIndexPtr();
    for (int c = 0; c < qr; ++c)
      for (int k = Sp[c]; k < Sp[c + 1]; ++k) sv[k] = Sd_(Si[k], c);
  }
  llt_.factorize(S_);
  if (llt_.info() != Eigen::Success)
    throw std::runtime_error("glmer: Cholesky factor of the random-effects block failed");
  ldL2_ = 2.0 * ld1 + 2.0 * llt_.matrixL().nestedExpression().diagonal().array().log().sum();
}

void ReFactor::forward(Eigen::Ref<VectorXd> c) const {
  const int q1 = pat_->q1;
  if (q1 == 0) {
    VectorXd t = llt_.permutationP() * c;
    llt_.matrixL().solveInPlace(t);
    c = t;
    return;
  }
  const int* Mp = M_.outerIndexPtr();
  const int* Mi = M_.innerIndexPtr();
  for (int j = 0; j < q1; ++j) {
    const double cj = c[j] / l11_[j];
    c[j] = cj;
    for (int e = Mp[j] + 1; e < Mp[j + 1]; ++e) c[Mi[e]] -= l21_[e] * cj;
  }
  VectorXd t = llt_.permutationP() * c.tail(pat_->q - q1);
  llt_.matrixL().solveInPlace(t);
  c.tail(pat_->q - q1) = t;
}

void ReFactor::backward(Eigen::Ref<VectorXd> c) const {
  const int q1 = pat_->q1;
  if (q1 == 0) {
    VectorXd t = c;
    llt_.matrixU().solveInPlace(t);
    c = llt_.permutationPinv() * t;
    return;
  }
  VectorXd t = c.tail(pat_->q - q1);
  llt_.matrixU().solveInPlace(t);
  c.tail(pat_->q - q1) = llt_.permutationPinv() * t;
  const int* Mp = M_.outerIndexPtr();
  const int* Mi = M_.innerIndexPtr();
  for (int j = 0; j < q1; ++j) {
    double s = c[j];
    for (int e = Mp[j] + 1; e < Mp[j + 1]; ++e) s -= l21_[e] * c[Mi[e]];
    c[j] = s / l11_[j];
  }
}

void ReFactor::add_z_lambda_u(const VectorXd& u, VectorXd& eta) const {
  const RePattern& P = *pat_;
  const int ka = P.kall;
  for (int i = 0; i < P.n; ++i) {
    const double* v = v_.data() + static_cast<size_t>(i) * ka;
    const int* c = P.cols.data() + static_cast<size_t>(i) * ka;
    double s = 0;
    for (int a = 0; a < ka; ++a) s += v[a] * u[c[a]];
    eta[i] += s;
  }
}

VectorXd ReFactor::lambda_u(const VectorXd& u) const {
  const RePattern& P = *pat_;
  VectorXd b(P.q);
  for (size_t t = 0; t < T_.size(); ++t) {
    const int k = P.term_k[t], base = P.term_base[t];
    for (int l = 0; l < P.term_nlev[t]; ++l)
      b.segment(base + l * k, k) = T_[t] * u.segment(base + l * k, k);
  }
  return b;
}

VectorXd ReFactor::scalar_diagonal() const {
  const RePattern& P = *pat_;
  if (P.term_k.size() != 1 || P.term_k[0] != 1)
    throw std::invalid_argument("AGQ only defined for a single scalar random-effects term");
  // one scalar term: Lambda'Z'WZ Lambda + I is diagonal and L its square root
  VectorXd d(P.q);
  for (int j = 0; j < P.q; ++j) d[j] = std::sqrt(M_.valuePtr()[P.diag_pos[j]]);
  return d;
}

}  // namespace glmer
}  // namespace rmodels
