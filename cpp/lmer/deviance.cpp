// The profiled deviance that joins the random-effects factor and the response (lmer.hpp):
// set theta, update the factor, read log|L_Z|^2, log|R_X|^2 and the penalized RSS from it, and
// the PLS solution (beta, u, b, fitted values) and conditional variances at theta.
#include <cmath>
#include <limits>
#include <stdexcept>

#include "lmer.hpp"

namespace rmodels {
namespace lmer {

namespace {
constexpr double kLog2Pi = 1.8378770664093454835606594728112;  // log(2 pi)
}  // namespace

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

  // Eigen's in-place LLT routine itself (what Eigen::LLT runs), for the first failing pivot
  Eigen::Ref<MatrixXd> L33(L33_);
  const Eigen::Index bad = Eigen::internal::llt_inplace<double, Eigen::Lower>::blocked(L33);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (bad >= 0) {
    // The last pivot fails for a perfect fit (pwrss = 0); an earlier one when the downdated
    // X'X is not positive definite, which lme4 refuses (rx_failed, see lmer.hpp).
    if (bad < p_) rx_failed_ = true;
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

}  // namespace lmer
}  // namespace rmodels
