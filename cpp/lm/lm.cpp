// lm.fit / lm.wfit: weighted least squares on the dqrdc2 factor (R's stats::lm.wfit and the C
// routine Cdqrls it calls), re-implemented on qr.hpp.
#include "lm.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "design_rows.hpp"
#include "qr.hpp"
#include "qr_kernels.hpp"
#include "qr_tall.hpp"
#include "wls.hpp"

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

// ---- R's double-precision operation order --------------------------------------------------
// LINPACK dqrdc2/dqrsl and LAPACK dpotri as R 4.2.2 runs them on the reference BLAS: dot
// products and norms are plain sequential sums in double (no FMA: the build uses
// -ffp-contract=off), the reflector is scaled by the reciprocal of its norm. Small problems use
// this path, so their numbers (and the digits R prints at exact decimal ties) are R's bits.

double ddot_seq(const double* x, Eigen::Index incx, const double* y, Eigen::Index incy,
                Eigen::Index n) {
  double s = 0.0;
  for (Eigen::Index i = 0; i < n; ++i) s = s + x[i * incx] * y[i * incy];
  return s;
}

// The plain sum of squares (R's bits on ordinary data); when it overflows or underflows
// (columns near 1e300 or 1e-300) the reference BLAS dnrm2's scaled sum, which cannot.
double dnrm2_seq(const double* x, Eigen::Index n) {
  double s = 0.0;
  for (Eigen::Index i = 0; i < n; ++i) s = s + x[i] * x[i];
  if (std::isfinite(s) && s > 1e-290) return std::sqrt(s);
  double scale = 0.0, ssq = 1.0;
  for (Eigen::Index i = 0; i < n; ++i) {
    if (x[i] == 0.0) continue;
    const double a = std::abs(x[i]);
    if (scale < a) {
      ssq = 1.0 + ssq * (scale / a) * (scale / a);
      scale = a;
    } else {
      ssq += (a / scale) * (a / scale);
    }
  }
  return scale * std::sqrt(ssq);
}

// dqrdc2 on the n x p column-major block x (leading dimension ld). Returns the rank.
int dqrdc2_r_order(double* x, Eigen::Index ld, Eigen::Index n, Eigen::Index p, double tol,
                   Eigen::VectorXd& qraux, std::vector<int>& pivot) {
  qraux.resize(p);
  pivot.resize(p);
  std::vector<double> w1(p), w2(p);
  for (Eigen::Index j = 0; j < p; ++j) {
    qraux[j] = dnrm2_seq(x + j * ld, n);
    w1[j] = qraux[j];
    w2[j] = qraux[j] == 0.0 ? 1.0 : qraux[j];
    pivot[j] = static_cast<int>(j);
  }
  std::vector<double> tmp(n);
  Eigen::Index k = p + 1;  // LINPACK's k: one past the last column not moved
  const Eigen::Index lup = std::min(n, p);
  for (Eigen::Index l = 0; l < lup; ++l) {
    // Move columns with a negligible remaining norm to the end (rotate l..p-1 left by one).
    while (l + 1 < k && qraux[l] < w2[l] * tol) {
      std::copy(x + l * ld, x + l * ld + n, tmp.begin());
      for (Eigen::Index j = l; j + 1 < p; ++j)
        std::copy(x + (j + 1) * ld, x + (j + 1) * ld + n, x + j * ld);
      std::copy(tmp.begin(), tmp.end(), x + (p - 1) * ld);
      const int pv = pivot[l];
      const double q = qraux[l], a = w1[l], b = w2[l];
      for (Eigen::Index j = l; j + 1 < p; ++j) {
        pivot[j] = pivot[j + 1];
        qraux[j] = qraux[j + 1];
        w1[j] = w1[j + 1];
        w2[j] = w2[j + 1];
      }
      pivot[p - 1] = pv;
      qraux[p - 1] = q;
      w1[p - 1] = a;
      w2[p - 1] = b;
      --k;
    }
    if (l + 1 == n) break;
    double* cl = x + l * ld;
    double nrmxl = dnrm2_seq(cl + l, n - l);
    if (nrmxl == 0.0) continue;
    if (cl[l] != 0.0) nrmxl = std::copysign(nrmxl, cl[l]);
    const double f = 1.0 / nrmxl;
    for (Eigen::Index i = l; i < n; ++i) cl[i] = f * cl[i];
    cl[l] = 1.0 + cl[l];
    for (Eigen::Index j = l + 1; j < p; ++j) {
      double* cj = x + j * ld;
      const double t = -ddot_seq(cl + l, 1, cj + l, 1, n - l) / cl[l];
      for (Eigen::Index i = l; i < n; ++i) cj[i] = cj[i] + t * cl[i];
      if (qraux[j] == 0.0) continue;
      const double r = std::abs(cj[l]) / qraux[j];
      const double tt = std::max(1.0 - r * r, 0.0);
      if (std::abs(tt) < 1e-6) {
        qraux[j] = dnrm2_seq(cj + l + 1, n - l - 1);
        w1[j] = qraux[j];
      } else {
        qraux[j] = qraux[j] * std::sqrt(tt);
      }
    }
    qraux[l] = cl[l];
    cl[l] = -nrmxl;
  }
  return static_cast<int>(std::min<Eigen::Index>(k - 1, n));
}

// One Householder reflection of dqrsl: y[j:] -= (u'y[j:] / u0) u, u = (qraux[j], x[j+1:, j]).
void reflect_r_order(double* x, Eigen::Index ld, Eigen::Index n, const Eigen::VectorXd& qraux,
                     Eigen::Index j, double* y) {
  double* cj = x + j * ld;
  const double keep = cj[j];
  cj[j] = qraux[j];
  const double t = -ddot_seq(cj + j, 1, y + j, 1, n - j) / cj[j];
  for (Eigen::Index i = j; i < n; ++i) y[i] = y[i] + t * cj[i];
  cj[j] = keep;
}

// dqrsl with job 1110 for one right-hand side: qty (in place in y), b (rank), rsd.
void dqrsl_r_order(double* x, Eigen::Index ld, Eigen::Index n, int rank,
                   const Eigen::VectorXd& qraux, double* y, double* b, double* rsd) {
  const Eigen::Index ju = std::min<Eigen::Index>(rank, n - 1);
  for (Eigen::Index j = 0; j < ju; ++j)
    if (qraux[j] != 0.0) reflect_r_order(x, ld, n, qraux, j, y);
  for (Eigen::Index i = 0; i < rank; ++i) b[i] = y[i];
  for (Eigen::Index jj = 0; jj < rank; ++jj) {
    const Eigen::Index j = rank - jj - 1;
    b[j] = b[j] / x[j + j * ld];
    if (j != 0) {
      const double t = -b[j];
      for (Eigen::Index i = 0; i < j; ++i) b[i] = b[i] + t * x[i + j * ld];
    }
  }
  for (Eigen::Index i = 0; i < n; ++i) rsd[i] = i < rank ? 0.0 : y[i];
  for (Eigen::Index j = ju - 1; j >= 0; --j)
    if (qraux[j] != 0.0) reflect_r_order(x, ld, n, qraux, j, rsd);
}

// R's chol2inv(R) by LAPACK's unblocked dtrti2 (upper, non-unit) then dlauu2 (upper), with the
// reference BLAS dtrmv / dscal / ddot / dgemv loops; the lower triangle mirrors the upper.
Eigen::MatrixXd chol2inv_r_order(const Eigen::Ref<const Eigen::MatrixXd>& qr, int n) {
  Eigen::MatrixXd a = qr.topLeftCorner(n, n);
  double* A = a.data();
  const Eigen::Index lda = n;
  auto at = [&](Eigen::Index i, Eigen::Index j) -> double& { return A[i + j * lda]; };
  // dtrti2: inverse of the upper triangle, column by column.
  for (Eigen::Index j = 0; j < n; ++j) {
    at(j, j) = 1.0 / at(j, j);
    const double ajj = -at(j, j);
    // dtrmv('U', 'N', 'N', j, A, lda, A(0, j), 1): x := U x with U the leading j x j block.
    double* x = A + j * lda;
    for (Eigen::Index j2 = 0; j2 < j; ++j2) {
      if (x[j2] != 0.0) {
        const double temp = x[j2];
        for (Eigen::Index i = 0; i < j2; ++i) x[i] = x[i] + temp * at(i, j2);
        x[j2] = x[j2] * at(j2, j2);
      }
    }
    for (Eigen::Index i = 0; i < j; ++i) x[i] = ajj * x[i];  // dscal
  }
  // dlauu2: U U' in the upper triangle.
  for (Eigen::Index i = 0; i < n; ++i) {
    const double aii = at(i, i);
    if (i < n - 1) {
      at(i, i) = ddot_seq(&at(i, i), lda, &at(i, i), lda, n - i);
      // dgemv('N', i, n-i-1, 1, A(0, i+1), lda, A(i, i+1), lda, aii, A(0, i), 1)
      double* y = A + i * lda;
      if (aii != 1.0) {
        if (aii == 0.0) {
          for (Eigen::Index r = 0; r < i; ++r) y[r] = 0.0;
        } else {
          for (Eigen::Index r = 0; r < i; ++r) y[r] = aii * y[r];
        }
      }
      for (Eigen::Index c = i + 1; c < n; ++c) {
        const double temp = 1.0 * at(i, c);
        for (Eigen::Index r = 0; r < i; ++r) y[r] = y[r] + temp * at(r, c);
      }
    } else {
      for (Eigen::Index r = 0; r <= i; ++r) A[r + i * lda] = aii * A[r + i * lda];  // dscal
    }
  }
  for (Eigen::Index j = 0; j < n; ++j)
    for (Eigen::Index i = j + 1; i < n; ++i) at(i, j) = at(j, i);
  return a;
}

// lm.fit's factor, coefficients and residuals in R's operation order (dqrdc2_r_order,
// dqrsl_r_order) on X's first nu rows; `effects` (nu x k) becomes Q'y in place.
Eigen::MatrixXd solve_r_order(Eigen::Ref<Eigen::MatrixXd> X, Eigen::Index nu, double tol,
                              Eigen::MatrixXd& effects, LmFit& fit) {
  const Eigen::Index p = X.cols(), k = effects.cols();
  double* xd = X.data();
  const Eigen::Index ld = X.outerStride();
  fit.rank = dqrdc2_r_order(xd, ld, nu, p, tol, fit.qraux, fit.pivot);
  Eigen::MatrixXd rsd(nu, k);
  std::vector<double> b(static_cast<std::size_t>(std::max(fit.rank, 1)));
  for (Eigen::Index c = 0; c < k; ++c) {
    dqrsl_r_order(xd, ld, nu, fit.rank, fit.qraux, effects.col(c).data(), b.data(),
                  rsd.col(c).data());
    for (int i = 0; i < fit.rank; ++i) fit.coefficients(fit.pivot[i], c) = b[i];
  }
  return rsd;
}

}  // namespace

bool lm_uses_extended_precision(Eigen::Index n, Eigen::Index p) {
  return 2.0 * static_cast<double>(n) * static_cast<double>(p) * static_cast<double>(p) <= 1e8;
}

namespace {

using MatRef = Eigen::Ref<const Eigen::MatrixXd>;
using VecRef = Eigen::Ref<const Eigen::VectorXd>;

// lm.wfit's and Cdqrls's argument checks, with R's messages.
void check_lm_args(Eigen::Index n, const MatRef& Y, const VecRef& weights, const VecRef& offset,
                   double tol) {
  const bool weighted = weights.size() > 0, has_offset = offset.size() > 0;
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
}

// The rows used in the QR (non-zero weights, in their original order; every row, unlisted,
// without weights), the rows set aside, and the used rows' sqrt weights.
struct UsedRows {
  bool weighted = false;
  std::vector<Eigen::Index> used, unused;
  Eigen::VectorXd sw;
  Eigen::Index nu = 0;
};

UsedRows used_rows(const VecRef& weights, Eigen::Index n) {
  UsedRows u;
  u.weighted = weights.size() > 0;
  if (!u.weighted) {
    u.nu = n;
    return u;
  }
  u.used.reserve(n);
  for (Eigen::Index i = 0; i < n; ++i) {
    if (weights[i] == 0.0) {
      u.unused.push_back(i);
    } else {
      u.used.push_back(i);
    }
  }
  u.nu = static_cast<Eigen::Index>(u.used.size());
  u.sw.resize(u.nu);
  for (Eigen::Index r = 0; r < u.nu; ++r) u.sw[r] = std::sqrt(weights[u.used[r]]);
  return u;
}

// sqrt(w) X on the used rows, compacted to the top of X (rows move up only, so in place is
// safe); x0 receives the rows set aside, unweighted (for their fitted values). Returns
// sqrt(w) (y - o) on the used rows.
Eigen::MatrixXd weigh_rows(Eigen::Ref<Eigen::MatrixXd> X, const MatRef& yo, const UsedRows& u,
                           Eigen::MatrixXd& x0) {
  const Eigen::Index p = X.cols();
  x0.resize(static_cast<Eigen::Index>(u.unused.size()), p);
  for (Eigen::Index r = 0; r < x0.rows(); ++r) x0.row(r) = X.row(u.unused[r]);
  if (!u.weighted) return yo;
  for (Eigen::Index j = 0; j < p; ++j) {
    double* col = X.col(j).data();
    for (Eigen::Index r = 0; r < u.nu; ++r) col[r] = col[u.used[r]] * u.sw[r];
  }
  Eigen::MatrixXd effects(u.nu, yo.cols());
  for (Eigen::Index r = 0; r < u.nu; ++r) effects.row(r) = yo.row(u.used[r]) * u.sw[r];
  return effects;
}

// The factor, coefficients, effects (Q'y) and weighted residuals of the problem on X's first
// nu rows: R's operation order for small problems, else the reconstruction path when it applies
// (x checked on its way), else dqrdc2 (wls.hpp); Cdqrls's finiteness checks, x then y.
Eigen::MatrixXd solve_lm(Eigen::Ref<Eigen::MatrixXd> X, Eigen::Index nu, Eigen::MatrixXd effects,
                         double tol, int threads, int extended, bool allow_fast, bool defer_factor,
                         LmFit& fit) {
  const Eigen::Index p = X.cols();
  const bool y_finite = effects.allFinite();
  const bool use_extended = extended == 1 || (extended < 0 && lm_uses_extended_precision(nu, p));
  WlsStep step;
  TallStatus tall = TallStatus::kDeclined;
  std::shared_ptr<TallFactor> deferred =
      defer_factor ? std::make_shared<TallFactor>() : std::shared_ptr<TallFactor>();
  if (nu > 0 && p > 0 && !use_extended && allow_fast && y_finite)
    tall = wls_reconstruct(X.topRows(nu), effects, tol, threads, step, deferred.get());
  if (tall == TallStatus::kNonFiniteX) throw std::invalid_argument("NA/NaN/Inf in 'x'");
  if (tall != TallStatus::kDone) {
    if (!all_finite(X.topRows(nu))) throw std::invalid_argument("NA/NaN/Inf in 'x'");
    if (!y_finite) throw std::invalid_argument("NA/NaN/Inf in 'y'");
  }
  Eigen::MatrixXd rsd;
  if (nu == 0 || p == 0) {
    // Nothing to factorise: every coefficient is NA (none exist when p == 0), Q = I.
    fit.qraux = Eigen::VectorXd::Zero(p);
    fit.pivot.resize(p);
    for (Eigen::Index j = 0; j < p; ++j) fit.pivot[j] = static_cast<int>(j);
    fit.rank = 0;
    rsd = effects;
  } else if (use_extended) {
    // R's own operation order in double (see dqrdc2_r_order): bit-identical to R's lm.fit.
    fit.algorithm = "dqrdc2-r-order";
    rsd = solve_r_order(X, nu, tol, effects, fit);
  } else {
    if (tall == TallStatus::kDone) {
      fit.algorithm = "reconstructed";
      if (deferred) {
        deferred->yw = std::move(effects);
        fit.deferred = std::move(deferred);
      }
    } else {
      wls_dqrdc2(X.topRows(nu), std::move(effects), tol, threads, /*residuals=*/true, step);
    }
    fit.qraux = std::move(step.qraux);
    fit.pivot = std::move(step.pivot);
    fit.rank = step.rank;
    for (int i = 0; i < fit.rank; ++i) fit.coefficients.row(fit.pivot[i]) = step.coef.row(i);
    effects = std::move(step.effects);
    rsd = std::move(step.rsd);
  }
  fit.effects = std::move(effects);
  return rsd;
}

// Back to the original scale: residuals / sqrt(w), fitted = (y - o) - residuals; the rows set
// aside get x_i' b (aliased b as 0); then the offset is added to the fitted values.
void to_original_scale(LmFit& fit, Eigen::MatrixXd&& rsd, const MatRef& yo, const UsedRows& u,
                       const Eigen::MatrixXd& x0, const VecRef& offset) {
  if (!u.weighted) {
    fit.residuals = std::move(rsd);
    fit.fitted_values = yo - fit.residuals;
  } else {
    fit.residuals.resize(yo.rows(), yo.cols());
    fit.fitted_values.resize(yo.rows(), yo.cols());
    for (Eigen::Index r = 0; r < u.nu; ++r) {
      const Eigen::Index i = u.used[r];
      fit.residuals.row(i) = rsd.row(r) / u.sw[r];
      fit.fitted_values.row(i) = yo.row(i) - fit.residuals.row(i);
    }
  }
  if (!u.unused.empty()) {
    const Eigen::MatrixXd b0 =
        fit.coefficients.unaryExpr([](double v) { return std::isnan(v) ? 0.0 : v; });
    const Eigen::MatrixXd f0 = x0 * b0;
    for (Eigen::Index r = 0; r < f0.rows(); ++r) {
      const Eigen::Index i = u.unused[r];
      fit.fitted_values.row(i) = f0.row(r);
      fit.residuals.row(i) = yo.row(i) - f0.row(r);
    }
  }
  if (offset.size() > 0) fit.fitted_values.colwise() += offset;
}

}  // namespace

LmFit lm_wfit_inplace(Eigen::Ref<Eigen::MatrixXd> X, const Eigen::Ref<const Eigen::MatrixXd>& Y,
                      const Eigen::Ref<const Eigen::VectorXd>& weights,
                      const Eigen::Ref<const Eigen::VectorXd>& offset, double tol, int threads,
                      int extended, bool allow_fast, bool defer_factor) {
  check_lm_args(X.rows(), Y, weights, offset, tol);
  // y - offset (R subtracts the offset before anything else; Y itself without one: no copy).
  Eigen::MatrixXd y_minus_o;
  if (offset.size() > 0) {
    y_minus_o = Y;
    y_minus_o.colwise() -= offset;
  }
  const MatRef yo = offset.size() > 0 ? MatRef(y_minus_o) : Y;
  const UsedRows u = used_rows(weights, X.rows());
  Eigen::MatrixXd x0;
  Eigen::MatrixXd effects = weigh_rows(X, yo, u, x0);

  LmFit fit;
  fit.algorithm = "dqrdc2";
  fit.n_used = static_cast<int>(u.nu);
  fit.coefficients = Eigen::MatrixXd::Constant(X.cols(), Y.cols(), kNaN);
  Eigen::MatrixXd rsd =
      solve_lm(X, u.nu, std::move(effects), tol, threads, extended, allow_fast, defer_factor, fit);
  fit.df_residual = static_cast<int>(u.nu) - fit.rank;
  to_original_scale(fit, std::move(rsd), yo, u, x0, offset);
  return fit;
}

bool lm_wfit_rows(const SparseRows& rows, const Eigen::Ref<const Eigen::VectorXd>& y,
                  const Eigen::Ref<const Eigen::VectorXd>& weights,
                  const Eigen::Ref<const Eigen::VectorXd>& offset, double tol, LmFit& fit) {
  const Eigen::Index n = rows.n;
  const int p = rows.p;
  if (y.size() != n || (weights.size() != 0 && weights.size() != n) ||
      (offset.size() != 0 && offset.size() != n))
    throw std::invalid_argument("lm_wfit_rows: lengths differ");
  if (lm_uses_extended_precision(n, p)) return false;
  const bool weighted = weights.size() != 0;
  Eigen::VectorXd yo = offset.size() != 0 ? Eigen::VectorXd(y - offset) : Eigen::VectorXd(y);
  Eigen::VectorXd sw = Eigen::VectorXd::Ones(n);
  if (weighted) {
    for (Eigen::Index i = 0; i < n; ++i) {
      if (!(weights[i] > 0)) return false;
      sw[i] = std::sqrt(weights[i]);
    }
  }
  Eigen::VectorXd yw = weighted ? Eigen::VectorXd(yo.cwiseProduct(sw)) : yo;
  if (!yw.allFinite()) return false;
  TallFit tf;
  auto deferred = std::make_shared<TallFactor>();
  if (lm_tall_reconstruct_rows(rows, sw, yw, tol, tf, *deferred) != TallStatus::kDone) return false;
  fit = LmFit();
  fit.algorithm = "reconstructed";
  fit.n_used = static_cast<int>(n);
  fit.qraux = std::move(tf.qraux);
  fit.pivot = std::move(tf.pivot);
  fit.rank = tf.rank;
  fit.coefficients = Eigen::MatrixXd::Constant(p, 1, kNaN);
  for (int i = 0; i < fit.rank; ++i) fit.coefficients.row(fit.pivot[i]) = tf.coef.row(i);
  fit.effects = std::move(tf.effects);
  fit.df_residual = static_cast<int>(n) - fit.rank;
  // Back to the original scale, as lm_wfit_inplace: residuals / sqrt(w), fitted = (y - o) -
  // residuals + o.
  if (weighted) {
    fit.residuals = tf.rsd.array().colwise() / sw.array();
  } else {
    fit.residuals = std::move(tf.rsd);
  }
  fit.fitted_values = yo - fit.residuals.col(0);
  if (offset.size() != 0) fit.fitted_values.col(0) += offset;
  deferred->yw = yw;
  fit.deferred = std::move(deferred);
  return true;
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
  // R's chol2inv (LAPACK dpotri): for rank <= 64 LAPACK runs the unblocked dtrti2 + dlauu2,
  // reproduced here operation for operation so summary.lm's standard errors are R's bits.
  if (rank <= 64) return chol2inv_r_order(qr, rank);
  // Larger: R^{-1} R^{-T} with a 64-bit mantissa (p^3 work, negligible), rounded once.
  using LD = long double;
  kernels::Mat<LD> r = qr.topLeftCorner(rank, rank).cast<LD>().triangularView<Eigen::Upper>();
  kernels::Mat<LD> rinv = kernels::Mat<LD>::Identity(rank, rank);
  r.triangularView<Eigen::Upper>().solveInPlace(rinv);
  kernels::Mat<LD> cov = rinv * rinv.transpose();
  return cov.cast<double>();
}

}  // namespace rmodels
