// The random-effects structure of a PLS model (lmer.hpp): the weighted fixed-effects part
// [X y], the terms in lme4's order with their columns of Z, and Lambda(theta) as one lower
// triangular template per term. Which factorisation path the model takes is decided here.
#include <cmath>
#include <stdexcept>

#include "lmer.hpp"

namespace rmodels {
namespace lmer {

PlsModel::PlsModel(const Eigen::Ref<const MatrixXd>& X, const Eigen::Ref<const VectorXd>& y,
                   const Eigen::Ref<const VectorXd>& weights,
                   const Eigen::Ref<const VectorXd>& offset, std::vector<ReTermInput> terms,
                   int method, int dense_limit)
    : n_(static_cast<int>(X.rows())),
      p_(static_cast<int>(X.cols())),
      K_(static_cast<int>(terms.size())) {
  if (y.size() != n_) throw std::invalid_argument("lmer: y and X differ in length");
  if (K_ == 0) throw std::invalid_argument("No random effects terms specified in formula");
  const VectorXd sw = set_weights(weights);
  set_fixed_part(X, y, offset, sw);
  set_terms(terms, sw);
  sparse_ = method == 2 || (method == 0 && qr_ > dense_limit);
  if (sparse_)
    build_sparse();
  else
    build_cross_products();
}

// sqrt(w) of the prior weights (ones when none), and log|W| = sum log w (-Inf with a zero w).
VectorXd PlsModel::set_weights(const Eigen::Ref<const VectorXd>& weights) {
  VectorXd sw = VectorXd::Ones(n_);
  if (weights.size() > 0) {
    if (weights.size() != n_) throw std::invalid_argument("lmer: weights of wrong length");
    for (int i = 0; i < n_; ++i) {
      // a zero weight makes log|W| -Inf and the criterion Inf, as in lme4
      if (!(weights[i] >= 0)) throw std::invalid_argument("lmer: weights must be non-negative");
      sw[i] = std::sqrt(weights[i]);
      ldW_ += std::log(weights[i]);
    }
  }
  return sw;
}

// Xy_ = sqrt(W) [X, y - offset - X gamma] with gamma the weighted least-squares coefficients
// (see lmer.hpp: the least-squares residual keeps the last pivot of the factor accurate).
void PlsModel::set_fixed_part(const Eigen::Ref<const MatrixXd>& X,
                              const Eigen::Ref<const VectorXd>& y,
                              const Eigen::Ref<const VectorXd>& offset, const VectorXd& sw) {
  offset_ = offset.size() > 0 ? VectorXd(offset) : VectorXd::Zero(n_);
  if (offset_.size() != n_) throw std::invalid_argument("lmer: offset of wrong length");
  // (reweight passes Xraw_ itself: no copy then; an n x 0 X still sets the row count)
  if (X.data() != Xraw_.data() || X.rows() != Xraw_.rows() || X.cols() != Xraw_.cols()) Xraw_ = X;
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
}

void PlsModel::reweight(const Eigen::Ref<const VectorXd>& weights,
                        const Eigen::Ref<const VectorXd>& y,
                        const Eigen::Ref<const VectorXd>& offset) {
  if (weights.size() != n_) throw std::invalid_argument("lmer: weights of wrong length");
  if (y.size() != n_) throw std::invalid_argument("lmer: y and X differ in length");
  ldW_ = 0;
  const VectorXd sw = set_weights(weights);
  set_fixed_part(Xraw_, y, offset, sw);
  for (Term& tm : terms_) tm.z = sw.asDiagonal() * tm.zraw;
  if (sparse_)
    build_sparse();
  else
    build_cross_products();
}

VectorXd PlsModel::scalar_factor_diagonal() const {
  if (K_ != 1 || terms_[0].k != 1 || sparse_)
    throw std::invalid_argument("AGQ only defined for a single scalar random-effects term");
  return L11_.row(0).transpose();
}

// The terms' weighted columns, their place in u (term 1 first, then terms 2..K: the "rest")
// and in theta (k (k + 1) / 2 values each, the lower template by column).
void PlsModel::set_terms(std::vector<ReTermInput>& terms, const VectorXd& sw) {
  int rest_off = 0, th_off = 0;
  for (int t = 0; t < K_; ++t) {
    ReTermInput& in = terms[t];
    Term tm;
    tm.nlev = in.nlev;
    tm.k = static_cast<int>(in.zlhs.cols());
    // a term without columns has no block in Lambda: refused here, never indexed
    if (tm.k == 0 || tm.nlev <= 0)
      throw std::invalid_argument("lmer: a random-effect term has no columns or no levels");
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
}

// Lambda's template of term t: the k x k lower triangle filled column by column from theta.
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

}  // namespace lmer
}  // namespace rmodels
