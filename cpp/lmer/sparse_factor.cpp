// The sparse path of the PLS factor (lmer.hpp), lme4's own scheme: Lambda'Z'WZ Lambda + I by a
// sparse Cholesky with a fill-reducing (AMD) ordering analysed once, R_ZX by triangular solves,
// and the [X y] block as on the blocked path.
#include <stdexcept>

#include "lmer.hpp"

namespace rmodels {
namespace lmer {

// Z'WZ (both triangles), Z'W[X y], [X y]'W[X y], the pattern of Lambda with the theta index of
// each stored entry, and the symbolic analysis of Lambda'Z'WZ Lambda + I.
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

// cond_var_blocks on the sparse path: each level's block of (L L')^-1 by a solve against the
// level's unit columns, then scaled by the term's template.
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

}  // namespace lmer
}  // namespace rmodels
