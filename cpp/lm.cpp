// lm.fit / lm.wfit: weighted least squares on the dqrdc2 factor (R's stats::lm.wfit and the C
// routine Cdqrls it calls), re-implemented on qr.hpp.
#include "lm.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "qr.hpp"
#include "qr_kernels.hpp"
#include "qr_tall.hpp"

namespace rmodels {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool all_finite(const Eigen::Ref<const Eigen::MatrixXd>& A) {
  // x * 0 is 0 for finite x and NaN for NaN/Inf; the vectorised sum is NaN iff one is present.
  for (Eigen::Index j = 0; j < A.cols(); ++j) {
    if (!((A.col(j).array() * 0.0).sum() == 0.0)) return false;
  }
  return true;
}

}  // namespace

bool lm_uses_extended_precision(Eigen::Index n, Eigen::Index p) {
  return 2.0 * static_cast<double>(n) * static_cast<double>(p) * static_cast<double>(p) <= 1e8;
}

LmFit lm_wfit_inplace(Eigen::Ref<Eigen::MatrixXd> X, const Eigen::Ref<const Eigen::MatrixXd>& Y,
                      const Eigen::Ref<const Eigen::VectorXd>& weights,
                      const Eigen::Ref<const Eigen::VectorXd>& offset, double tol,
                      int threads, int extended, bool allow_fast) {
  const Eigen::Index n = X.rows();
  const Eigen::Index p = X.cols();
  const Eigen::Index k = Y.cols();
  const bool weighted = weights.size() > 0;
  const bool has_offset = offset.size() > 0;
  if (n == 0) throw std::invalid_argument("0 (non-NA) cases");
  if (Y.rows() != n || (weighted && weights.size() != n) || (has_offset && offset.size() != n))
    throw std::invalid_argument("incompatible dimensions");
  if (weighted) {
    for (Eigen::Index i = 0; i < n; ++i) {
      if (!(weights[i] >= 0.0))
        throw std::invalid_argument("missing or negative weights not allowed");
    }
  }
  if (!(tol >= 0.0)) throw std::invalid_argument("'tol' must be a non-negative number");

  // y - offset (R subtracts the offset before anything else).
  Eigen::MatrixXd yo = Y;
  if (has_offset) yo.colwise() -= offset;

  // Rows used in the QR: non-zero weights, in their original order.
  // (Only built when there are weights; without them every row is used in order.)
  std::vector<Eigen::Index> used, unused;
  if (weighted) {
    used.reserve(n);
    for (Eigen::Index i = 0; i < n; ++i) {
      if (weights[i] == 0.0) {
        unused.push_back(i);
      } else {
        used.push_back(i);
      }
    }
  }
  const Eigen::Index nu = weighted ? static_cast<Eigen::Index>(used.size()) : n;
  const bool compact = !unused.empty();

  // Rows set aside keep their unweighted x (needed for their fitted values).
  Eigen::MatrixXd x0(unused.size(), p);
  for (Eigen::Index r = 0; r < x0.rows(); ++r) x0.row(r) = X.row(unused[r]);

  // sqrt(w) X on the used rows, compacted to the top of X (rows move up only, so in place is
  // safe), and sqrt(w) (y - o).
  Eigen::VectorXd wts;
  if (weighted) {
    wts.resize(nu);
    for (Eigen::Index r = 0; r < nu; ++r) wts[r] = std::sqrt(weights[used[r]]);
  }
  if (compact || weighted) {
    for (Eigen::Index j = 0; j < p; ++j) {
      double* col = X.col(j).data();
      for (Eigen::Index r = 0; r < nu; ++r) col[r] = col[used[r]] * wts[r];
    }
  }
  Eigen::MatrixXd effects;
  if (weighted) {
    effects.resize(nu, k);
    for (Eigen::Index r = 0; r < nu; ++r) effects.row(r) = yo.row(used[r]) * wts[r];
  } else {
    effects = yo;
  }

  // R's Cdqrls checks x, then y.  The reconstruction path checks x during its own pass over
  // it (saving one read of X); every other path checks here.
  const bool y_finite = effects.allFinite();
  auto check_inputs = [&] {
    if (!all_finite(X.topRows(nu))) throw std::invalid_argument("NA/NaN/Inf in 'x'");
    if (!y_finite) throw std::invalid_argument("NA/NaN/Inf in 'y'");
  };

  LmFit fit;
  fit.algorithm = "dqrdc2";
  fit.n_used = static_cast<int>(nu);
  fit.coefficients = Eigen::MatrixXd::Constant(p, k, kNaN);
  if (weighted) {
    fit.residuals.resize(n, k);
    fit.fitted_values.resize(n, k);
  }

  Eigen::MatrixXd rsd;  // residuals of the weighted problem on the used rows
  const bool use_extended =
      extended == 1 || (extended < 0 && lm_uses_extended_precision(nu, p));
  TallFit tf;
  TallStatus tall = TallStatus::kDeclined;
  if (nu > 0 && p > 0 && !use_extended && allow_fast && y_finite)
    tall = lm_tall_reconstruct_checked(X.topRows(nu), effects, tol, threads, tf);
  if (tall == TallStatus::kNonFiniteX) throw std::invalid_argument("NA/NaN/Inf in 'x'");
  if (tall != TallStatus::kDone) check_inputs();

  if (nu == 0 || p == 0) {
    // Nothing to factorise: every coefficient is NA (none exist when p == 0), Q = I.
    fit.qraux = Eigen::VectorXd::Zero(p);
    fit.pivot.resize(p);
    for (Eigen::Index j = 0; j < p; ++j) fit.pivot[j] = static_cast<int>(j);
    fit.rank = 0;
    rsd = effects;
  } else if (use_extended) {
    // Same algorithm on the same double inputs, carried out with a 64-bit mantissa; the
    // results are rounded to double once at the end.
    fit.algorithm = "dqrdc2-extended";
    using LD = long double;
    kernels::Mat<LD> xl = X.topRows(nu).cast<LD>();
    kernels::Vec<LD> qa;
    fit.rank = kernels::dqrdc2<LD>(xl, static_cast<LD>(tol), qa, fit.pivot);
    kernels::Mat<LD> el = effects.cast<LD>();
    kernels::apply_q<LD>(xl, qa, fit.rank, el, true);
    kernels::Mat<LD> b = el.topRows(fit.rank);
    xl.topLeftCorner(fit.rank, fit.rank).triangularView<Eigen::Upper>().solveInPlace(b);
    kernels::Mat<LD> rl = el;
    rl.topRows(fit.rank).setZero();
    kernels::apply_q<LD>(xl, qa, fit.rank, rl, false);
    X.topRows(nu) = xl.cast<double>();
    fit.qraux = qa.cast<double>();
    effects = el.cast<double>();
    rsd = rl.cast<double>();
    for (int i = 0; i < fit.rank; ++i)
      fit.coefficients.row(fit.pivot[i]) = b.row(i).cast<double>();
  } else if (tall == TallStatus::kDone) {
    fit.algorithm = "reconstructed";
    fit.qraux = std::move(tf.qraux);
    fit.pivot = std::move(tf.pivot);
    fit.rank = tf.rank;
    for (int i = 0; i < fit.rank; ++i) fit.coefficients.row(fit.pivot[i]) = tf.coef.row(i);
    effects = std::move(tf.effects);
    rsd = std::move(tf.rsd);
  } else {
    auto xu = X.topRows(nu);
    QRPivoting piv = qr_dqrdc2_inplace(xu, tol, threads);
    fit.qraux = std::move(piv.qraux);
    fit.pivot = std::move(piv.pivot);
    fit.rank = piv.rank;
    qr_qty_inplace(xu, fit.qraux, fit.rank, effects);
    const Eigen::MatrixXd b = qr_solve_r(xu, fit.rank, effects);
    for (int i = 0; i < fit.rank; ++i) fit.coefficients.row(fit.pivot[i]) = b.row(i);
    rsd = qr_resid_from_qty(xu, fit.qraux, fit.rank, effects);
  }
  fit.effects = std::move(effects);
  fit.df_residual = static_cast<int>(nu) - fit.rank;

  // Back to the original scale: residuals / sqrt(w), fitted = (y - o) - residuals (+ o below).
  if (!weighted) {
    fit.residuals = std::move(rsd);
    fit.fitted_values = yo - fit.residuals;
  } else {
    for (Eigen::Index r = 0; r < nu; ++r) {
      const Eigen::Index i = used[r];
      fit.residuals.row(i) = rsd.row(r) / wts[r];
      fit.fitted_values.row(i) = yo.row(i) - fit.residuals.row(i);
    }
  }
  if (compact) {
    const Eigen::MatrixXd b0 =
        fit.coefficients.unaryExpr([](double v) { return std::isnan(v) ? 0.0 : v; });
    const Eigen::MatrixXd f0 = x0 * b0;
    for (Eigen::Index r = 0; r < f0.rows(); ++r) {
      const Eigen::Index i = unused[r];
      fit.fitted_values.row(i) = f0.row(r);
      fit.residuals.row(i) = yo.row(i) - f0.row(r);
    }
  }
  if (has_offset) fit.fitted_values.colwise() += offset;
  return fit;
}

Eigen::VectorXd qr_hat(const Eigen::Ref<const Eigen::MatrixXd>& qr,
                       const Eigen::Ref<const Eigen::VectorXd>& qraux, int rank) {
  // Compact WY form of the reflectors dqrsl applies (the first min(rank, n - 1); a zero
  // qraux is the identity): Q = I - V T V', V unit lower trapezoidal (V(i, l) = qr(i, l) / qraux[l]
  // below the diagonal), T upper triangular from S = V'V (LAPACK dlarft, forward).  Then
  //   Q1 = Q[, 1:rank] = [I; 0] - V W,  W = T V1',  h_i = ||row i of Q1||^2,
  // computed over row blocks with matrix products (n rank^2 flops, one pass over qr).
  const Eigen::Index n = qr.rows();
  const int r = rank;
  Eigen::VectorXd hat = Eigen::VectorXd::Zero(n);
  if (r == 0) return hat;
  const int ju = static_cast<int>(std::min<Eigen::Index>(r, std::max<Eigen::Index>(n - 1, 0)));
  Eigen::VectorXd tau = Eigen::VectorXd::Zero(r);
  for (int l = 0; l < ju; ++l) tau[l] = qraux[l];
  constexpr Eigen::Index kRows = 1024;
  auto v_block = [&](Eigen::Index r0, Eigen::Index len, Eigen::MatrixXd& V) {
    V = qr.block(r0, 0, len, r);
    for (int l = 0; l < r; ++l) {
      if (tau[l] == 0.0) {
        V.col(l).setZero();
      } else {
        V.col(l) /= tau[l];
      }
      // Rows at or above the diagonal: 1 on it, 0 above.
      for (Eigen::Index i = 0; i < len && r0 + i <= l; ++i) V(i, l) = (r0 + i == l) ? 1.0 : 0.0;
    }
  };
  Eigen::MatrixXd S = Eigen::MatrixXd::Zero(r, r), V;
  for (Eigen::Index r0 = 0; r0 < n; r0 += kRows) {
    const Eigen::Index len = std::min(kRows, n - r0);
    v_block(r0, len, V);
    S.selfadjointView<Eigen::Lower>().rankUpdate(V.transpose());
  }
  S = S.selfadjointView<Eigen::Lower>();
  Eigen::MatrixXd T = Eigen::MatrixXd::Zero(r, r);
  for (int l = 0; l < r; ++l) {
    T(l, l) = tau[l];
    if (l > 0 && tau[l] != 0.0) {
      const Eigen::VectorXd z = -tau[l] * S.col(l).head(l);
      T.col(l).head(l) = T.topLeftCorner(l, l).triangularView<Eigen::Upper>() * z;
    }
  }
  Eigen::MatrixXd V1;
  v_block(0, std::min<Eigen::Index>(r, n), V1);
  Eigen::MatrixXd W = T * V1.transpose();  // r x r
  for (Eigen::Index r0 = 0; r0 < n; r0 += kRows) {
    const Eigen::Index len = std::min(kRows, n - r0);
    v_block(r0, len, V);
    Eigen::MatrixXd Q1 = -V * W;
    for (Eigen::Index i = 0; i < len && r0 + i < r; ++i) Q1(i, r0 + i) += 1.0;
    hat.segment(r0, len) = Q1.rowwise().squaredNorm();
  }
  return hat;
}

Eigen::MatrixXd qr_cov_unscaled(const Eigen::Ref<const Eigen::MatrixXd>& qr, int rank) {
  // R^{-1} R^{-T} with a 64-bit mantissa (p^3 work, negligible), rounded once.
  using LD = long double;
  kernels::Mat<LD> r = qr.topLeftCorner(rank, rank).cast<LD>().triangularView<Eigen::Upper>();
  kernels::Mat<LD> rinv = kernels::Mat<LD>::Identity(rank, rank);
  r.triangularView<Eigen::Upper>().solveInPlace(rinv);
  kernels::Mat<LD> cov = rinv * rinv.transpose();
  return cov.cast<double>();
}

}  // namespace rmodels
