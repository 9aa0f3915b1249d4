// The blocked PLS factor at theta (lmer.hpp; MixedModels.jl's layout): term 1's diagonal blocks
// L11, the block-sparse columns L21, the dense block L22 of terms 2..K and the [X y] rows L31,
// L32; L33 = A33 - L31 L31' - L32 L32' is left for the criterion to factor.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "dense_cholesky.hpp"
#include "lmer.hpp"

namespace rmodels {
namespace lmer {

namespace {
// Lower Cholesky factor of a small symmetric positive-definite matrix, in place (lower part).
bool small_chol(MatrixXd& M) {
  Eigen::LLT<Eigen::Ref<MatrixXd>> llt(M);
  return llt.info() == Eigen::Success;
}
}  // namespace

void PlsModel::update_blocked(Criterion& cr) {
  factor_term1(cr);
  L33_ = A33_;
  L33_.selfadjointView<Eigen::Lower>().rankUpdate(L31_, -1.0);
  if (K_ == 1) return;
  update_L21();
  if (tile_ > 0)
    form_rest_block_tiled();
  else
    form_rest_block_dense();
  const bool ok = tile_ > 0 ? tiled_cholesky_lower(L22_, tile_, tile_below_, threads_)
                            : dense_cholesky_lower(L22_, threads_);
  if (!ok) throw std::runtime_error("lmer: Cholesky factor of the random-effects block failed");
  cr.ldL2 += 2.0 * L22_.diagonal().array().log().sum();
  update_L32();
}

// Term 1: L11_j = chol(T1' A11_j T1 + I), L31_j = A31_j T1 L11_j^-T; adds log|L11|^2 to ldL2.
void PlsModel::factor_term1(Criterion& cr) {
  const Term& t1 = terms_[0];
  const int k1 = t1.k, p1 = p_ + 1;
  const MatrixXd& T1 = T_[0];
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
}

// L21_j = Lambda_r' A21_j T1 L11_j^-T (pattern of A21_j); for a scalar term 1 its entries are
// also gathered into l21_flat_ by column of L22.
void PlsModel::update_L21() {
  const Term& t1 = terms_[0];
  const int k1 = t1.k;
  const MatrixXd& T1 = T_[0];
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
  if (k1 == 1) {
    for (int j = 0; j < t1.nlev; ++j) {
      const double* lj = A21_[j].L.data();
      for (int e = l21_offset_[j]; e < l21_offset_[j + 1]; ++e) l21_flat_[e] = lj[l21_src_[e]];
    }
  }
}

// col -= sum_j L21_j[c] L21_j (scalar term 1): the updates of column c of L22_, from the
// flattened L21 blocks.
void PlsModel::subtract_l21_products(double* col, int c) const {
  const double* v = l21_flat_.data();
  const int* rows = l21_rows_.data();
  for (int e = col_ptr_[c]; e < col_ptr_[c + 1]; ++e) {
    const ColumnUpdate& u = col_updates_[e];
    const double* lj = v + u.offset;
    const int* rj = rows + u.offset;
    const double lb = lj[u.b];
    for (int a = u.b; a < u.m; ++a) col[rj[a]] -= lb * lj[a];
  }
}

// L22_ <- Lambda_r' A22 Lambda_r + I - sum_j L21_j L21_j' in the fill-reducing order (scalar
// terms), column by column: only the tiles that can be nonzero are written (the others hold
// zeros from the first evaluation on), and term 1's update is applied while the column is in
// cache.
void PlsModel::form_rest_block_tiled() {
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
    subtract_l21_products(col, c);
  }
}

// L22_ <- Lambda_r' A22 Lambda_r + I - sum_j L21_j L21_j' as a dense block (lower triangle).
void PlsModel::form_rest_block_dense() {
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
  if (terms_[0].k == 1) {
    for (int c = 0; c < qr_; ++c)
      subtract_l21_products(l22 + static_cast<std::ptrdiff_t>(c) * qr_, c);
  } else {
    MatrixXd G;
    for (const BlockCol& bc : A21_) {
      const int m = static_cast<int>(bc.rows.size());
      if (m == 0) continue;
      const std::ptrdiff_t* idx = bc.lower_idx.data();
      G.noalias() = bc.L * bc.L.transpose();
      for (int b = 0; b < m; ++b)
        for (int a = b; a < m; ++a) l22[*idx++] -= G(a, b);
    }
  }
}

// L32 = (A32 Lambda_r - sum_j L31_j L21_j') L22^-T, then L33 -= L32 L32'.
void PlsModel::update_L32() {
  const int k1 = terms_[0].k, p1 = p_ + 1;
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
  for (int j = 0; j < terms_[0].nlev; ++j) {
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

}  // namespace lmer
}  // namespace rmodels
