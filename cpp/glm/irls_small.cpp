// glm.fit on small dense problems by the normal equations (see irls_small.hpp).
//
// The steps are irls.cpp's (Irls), in the same order and with R's tests: the start from
// family$initialize's mustart, then per iteration the working weights and responses
// (irls_rows::working_rows), the weighted least-squares step (here: solve_step), the linear
// predictor, means and deviance (update_step), the convergence test, and after the loop the
// check that no warning of R's is due (ordinary_end) and the null deviance. The element-wise passes
// of the logit, log and identity links and of the binomial, Poisson and gaussian deviances run over
// whole vectors: Eigen's SIMD exp and log, then branch-free loops the compiler vectorises (the
// logit-binomial passes in fewer divisions, irls_small_rows.hpp). Their values differ from the
// libm ones of the single fit by a few units in the last place, far inside the 1e-10 the results
// are held to. A 0/1 response with unit weights also gives binomial()$aic: its deviance.
#include "irls_small.hpp"

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#ifdef __AVX2__
#include <immintrin.h>
#endif

#include "irls_rows.hpp"
#include "irls_small_rows.hpp"

namespace rmodels {

namespace {

using namespace irls_rows;
using Eigen::ArrayXd;
using Eigen::Index;
using Eigen::VectorXd;
using MatL = Eigen::Matrix<long double, Eigen::Dynamic, Eigen::Dynamic>;

// Largest column-equilibrated condition number of R~ (bounded above through Frobenius norms)
// for which a step is solved from its normal equations.
constexpr long double kMaxCond = 1e2L;

// The logit link's mu and mu.eta from t = exp(eta) (R's clamps at |eta| > 30), as link_pair.
// With AVX2 four rows at a time (the comparisons are blends: a loop with them is not vectorised
// by the compiler, since comparisons of doubles may trap).
void logit_rows(const double* __restrict e, const double* __restrict x, double* __restrict m,
                double* __restrict d, Index n) {
  constexpr double eps = DBL_EPSILON;
  Index i = 0;
#ifdef __AVX2__
  const __m256d v_eps = _mm256_set1_pd(eps), v_big = _mm256_set1_pd(1 / eps);
  const __m256d v_hi = _mm256_set1_pd(30.), v_lo = _mm256_set1_pd(-30.), one = _mm256_set1_pd(1.);
  for (; i + 4 <= n; i += 4) {
    const __m256d ev = _mm256_loadu_pd(e + i);
    const __m256d above = _mm256_cmp_pd(ev, v_hi, _CMP_GT_OQ);
    const __m256d below = _mm256_cmp_pd(ev, v_lo, _CMP_LT_OQ);
    const __m256d ti =
        _mm256_blendv_pd(_mm256_blendv_pd(_mm256_loadu_pd(x + i), v_big, above), v_eps, below);
    const __m256d op = _mm256_add_pd(one, ti);
    _mm256_storeu_pd(m + i, _mm256_div_pd(ti, op));
    const __m256d q = _mm256_div_pd(ti, _mm256_mul_pd(op, op));
    _mm256_storeu_pd(d + i, _mm256_blendv_pd(q, v_eps, _mm256_or_pd(above, below)));
  }
#endif
  for (; i < n; ++i) {
    const double ti = e[i] < -30. ? eps : (e[i] > 30. ? 1 / eps : x[i]);
    const double op = 1 + ti;
    m[i] = ti / op;
    d[i] = (e[i] > 30. || e[i] < -30.) ? eps : ti / (op * op);
  }
}

// 1 / mu where y is 1, 1 / (1 - mu) elsewhere (the binomial deviance of a 0/1 response).
void binary_inverse_rows(const double* __restrict y, const double* __restrict m,
                         double* __restrict d, Index n) {
  Index i = 0;
#ifdef __AVX2__
  const __m256d one = _mm256_set1_pd(1.);
  for (; i + 4 <= n; i += 4) {
    const __m256d mv = _mm256_loadu_pd(m + i);
    const __m256d is1 = _mm256_cmp_pd(_mm256_loadu_pd(y + i), one, _CMP_EQ_OQ);
    const __m256d den = _mm256_blendv_pd(_mm256_sub_pd(one, mv), mv, is1);
    _mm256_storeu_pd(d + i, _mm256_div_pd(one, den));
  }
#endif
  for (; i < n; ++i) d[i] = y[i] == 1.0 ? 1 / m[i] : 1 / (1 - m[i]);
}

// mu and mu.eta at eta, as link_pair gives them (t: scratch for exp(eta)).
void link_rows(const Family& f, const VectorXd& eta, VectorXd& mu, VectorXd& me, ArrayXd& t) {
  constexpr double eps = DBL_EPSILON;
  const Index n = eta.size();
  mu.resize(n);
  me.resize(n);
  const double* __restrict e = eta.data();
  double* __restrict m = mu.data();
  double* __restrict d = me.data();
  switch (f.link) {
    case LinkKind::Logit: {
      t = eta.array().exp();
      logit_rows(e, t.data(), m, d, n);
      return;
    }
    case LinkKind::Log: {
      t = eta.array().exp();
      const double* __restrict x = t.data();
      for (Index i = 0; i < n; ++i) m[i] = d[i] = x[i] < eps ? eps : x[i];
      return;
    }
    case LinkKind::Identity:
      mu = eta;
      me.setOnes();
      return;
    default:
      for (Index i = 0; i < n; ++i) link_pair(f, e[i], m[i], d[i]);
  }
}

// The response's shape, found in one pass: whether every response is 0 or 1 (binary), whether
// every prior weight equals the first (equal), the number of ones.
struct Shape {
  bool binary = false, equal = false;
  Index ones = 0;
  bool equal_binary() const { return binary && equal; }
};

Shape shape_of(const VectorXd& y, const VectorXd& w) {
  const Index n = y.size();
  Shape s;
  if (n == 0) return s;
  std::int64_t zeros = 0, ones = 0, same = 0;
  Index i = 0;
#ifdef __AVX2__
  const __m256d zero = _mm256_setzero_pd(), one = _mm256_set1_pd(1.), w0 = _mm256_set1_pd(w[0]);
  __m256i cz = _mm256_setzero_si256(), co = cz, cs = cz;  // minus the counts (masks are -1)
  for (; i + 4 <= n; i += 4) {
    const __m256d yv = _mm256_loadu_pd(y.data() + i), wv = _mm256_loadu_pd(w.data() + i);
    cz = _mm256_add_epi64(cz, _mm256_castpd_si256(_mm256_cmp_pd(yv, zero, _CMP_EQ_OQ)));
    co = _mm256_add_epi64(co, _mm256_castpd_si256(_mm256_cmp_pd(yv, one, _CMP_EQ_OQ)));
    cs = _mm256_add_epi64(cs, _mm256_castpd_si256(_mm256_cmp_pd(wv, w0, _CMP_EQ_OQ)));
  }
  alignas(32) std::int64_t c[3][4];
  _mm256_store_si256(reinterpret_cast<__m256i*>(c[0]), cz);
  _mm256_store_si256(reinterpret_cast<__m256i*>(c[1]), co);
  _mm256_store_si256(reinterpret_cast<__m256i*>(c[2]), cs);
  for (int k = 0; k < 4; ++k) {
    zeros -= c[0][k];
    ones -= c[1][k];
    same -= c[2][k];
  }
#endif
  for (; i < n; ++i) {
    zeros += y[i] == 0.0;
    ones += y[i] == 1.0;
    same += w[i] == w[0];
  }
  s.binary = zeros + ones == n;
  s.equal = same == n;
  s.ones = ones;
  return s;
}

// Whether binomial()$aic is the deviance: a 0/1 response, every prior weight and number of
// trials 1 (the AIC is then -2 sum(log(dbinom(y, 1, mu))) = -2 sum(log(y ? mu : 1 - mu))).
bool unit_binary(const Shape& shape, const VectorXd& w, const VectorXd& trials) {
  if (!shape.equal_binary() || w[0] != 1.0) return false;
  return (trials.array() == 1.0).all();
}

// out[i] = (y[i] == 1 ? v1 : v0) at every row of a 0/1 response y; with `src`, whether src[i]
// equals (y[i] == 1 ? s1 : s0) at every row (else true).
bool select_by_response(const VectorXd& y, double v1, double v0, double* out,
                        const double* src = nullptr, double s1 = 0, double s0 = 0) {
  const Index n = y.size();
  Index i = 0;
  bool same = true;
#ifdef __AVX2__
  const __m256d one = _mm256_set1_pd(1.), a1 = _mm256_set1_pd(v1), a0 = _mm256_set1_pd(v0);
  const __m256d b1 = _mm256_set1_pd(s1), b0 = _mm256_set1_pd(s0);
  __m256d differ = _mm256_setzero_pd();
  for (; i + 4 <= n; i += 4) {
    const __m256d is1 = _mm256_cmp_pd(_mm256_loadu_pd(y.data() + i), one, _CMP_EQ_OQ);
    _mm256_storeu_pd(out + i, _mm256_blendv_pd(a0, a1, is1));
    if (src != nullptr)
      differ = _mm256_or_pd(differ, _mm256_cmp_pd(_mm256_loadu_pd(src + i),
                                                  _mm256_blendv_pd(b0, b1, is1), _CMP_NEQ_UQ));
  }
  same = _mm256_movemask_pd(differ) == 0;
#endif
  for (; i < n; ++i) {
    const bool is1 = y[i] == 1.0;
    if (src != nullptr) same &= src[i] == (is1 ? s1 : s0);
    out[i] = is1 ? v1 : v0;
  }
  return same;
}

// The first row where y is `value`, or the first row (y takes one value).
Index first_row_of(const VectorXd& y, double value) {
  for (Index i = 0; i < y.size(); ++i)
    if (y[i] == value) return i;
  return 0;
}

// The inverse of the upper triangular R (back substitution, column by column).
MatL upper_inverse(const MatL& R) {
  const Index p = R.cols();
  MatL inv = MatL::Zero(p, p);
  for (Index j = 0; j < p; ++j) {
    inv(j, j) = 1 / R(j, j);
    for (Index i = j - 1; i >= 0; --i) {
      long double s = 0;
      for (Index k = i + 1; k <= j; ++k) s += R(i, k) * inv(k, j);
      inv(i, j) = -s / R(i, i);
    }
  }
  return inv;
}

// The sum of the unit deviances (family$dev.resids) at mu, the binomial, Poisson and gaussian
// ones over whole vectors (dev: scratch).
double deviance_of(const Family& f, bool binary, const VectorXd& y, const VectorXd& mu,
                   const VectorXd& wt, ArrayXd& dev) {
  const Index n = y.size();
  dev.resize(n);
  const double* __restrict yy = y.data();
  const double* __restrict m = mu.data();
  const double* __restrict w = wt.data();
  double* __restrict d = dev.data();
  switch (f.variance) {
    case VarianceKind::Binomial:
    case VarianceKind::QuasiBinomialVar:
      if (binary) {  // y log(y / mu) + (1 - y) log((1 - y) / (1 - mu)) has one term
        binary_inverse_rows(yy, m, d, n);
        dev = dev.log();
        for (Index i = 0; i < n; ++i) d[i] = 2 * w[i] * d[i];
      } else {
        ArrayXd a = (y.array() / mu.array()).log();
        dev = ((1 - y.array()) / (1 - mu.array())).log();
        for (Index i = 0; i < n; ++i) {
          const double y1 = 1 - yy[i];
          const double l1 = yy[i] != 0 ? yy[i] * a[i] : 0.0;
          const double l2 = y1 != 0 ? y1 * d[i] : 0.0;
          d[i] = 2 * w[i] * (l1 + l2);
        }
      }
      break;
    case VarianceKind::Poisson:
      dev = (y.array() / mu.array()).log();
      for (Index i = 0; i < n; ++i)
        d[i] = 2 * (yy[i] > 0 ? (w[i] * (yy[i] * d[i] - (yy[i] - m[i]))) : m[i] * w[i]);
      break;
    case VarianceKind::Gaussian:
      for (Index i = 0; i < n; ++i) d[i] = w[i] * ((yy[i] - m[i]) * (yy[i] - m[i]));
      break;
    default:
      for (Index i = 0; i < n; ++i) d[i] = dev_resid1(f, yy[i], m[i], w[i]);
  }
  return dev.sum();
}

// The upper Cholesky factor of the leading p x p block of G; false unless positive definite.
bool cholesky(const MatL& G, Index p, MatL& R) {
  R = MatL::Zero(p, p);
  for (Index j = 0; j < p; ++j) {
    long double s = G(j, j);
    for (Index i = 0; i < j; ++i) s -= R(i, j) * R(i, j);
    if (!(s > 0)) return false;
    R(j, j) = std::sqrt(s);
    for (Index l = j + 1; l < p; ++l) {
      long double u = G(j, l);
      for (Index i = 0; i < j; ++i) u -= R(i, j) * R(i, l);
      R(j, l) = u / R(j, j);
    }
  }
  return true;
}

// Whether R~ is well enough conditioned for the normal equations: with its columns scaled to
// unit norm (Rs), ||Rs||_F ||Rs^{-1}||_F = sqrt(p) ||Rs^{-1}||_F bounds the condition number.
bool well_conditioned(const MatL& R) {
  const Index p = R.cols();
  MatL Rs = R;
  for (Index j = 0; j < p; ++j) Rs.col(j) /= Rs.col(j).norm();
  const MatL inv = upper_inverse(Rs);
  const long double kappa = std::sqrt(static_cast<long double>(p)) * inv.norm();
  return kappa <= kMaxCond;
}

// Whether the fused passes of irls_small_rows.hpp apply: AVX2, the logit link with the binomial
// variance, at most 8 columns of plain column-major storage.
bool fused_rows(const Family& f, const Eigen::Ref<const Eigen::MatrixXd>& X) {
#ifdef __AVX2__
  return f.link == LinkKind::Logit && f.variance == VarianceKind::Binomial && X.cols() <= 8 &&
         X.innerStride() == 1;
#else
  (void)f;
  (void)X;
  return false;
#endif
}

// glm.fit's IRLS from family$initialize's mustart, every step by the normal equations.
class SmallIrls {
 public:
  SmallIrls(const Eigen::Ref<const Eigen::MatrixXd>& X, const VecRef& offset, const Family& f,
            const GlmControl& control, const Shape& shape, SmallGlmWorkspace& ws, GlmResult& res)
      : X_(X),
        n_(X.rows()),
        p_(X.cols()),
        off_(offset),
        f_(f),
        control_(control),
        ws_(ws),
        res_(res),
        y_(res.y),
        wt_(res.prior_weights),
        binary_(shape.binary),
        equal_binary_(shape.equal_binary()),
        ones_(shape.ones),
        fused_(fused_rows(f, X)) {}

  // The iterations from the starting means; false: declined.
  bool run(VectorXd eta0);
  // The result (after run): coefficients, fitted values, working residuals and weights, and
  // (X'WX)^{-1} of the last step.
  void finish(Eigen::MatrixXd& cov);

 private:
  bool start(VectorXd eta0);
  bool two_valued_start();
  bool iterate();
  bool working_step();
  bool solve_step(VectorXd& beta);
  bool solve_gram(const MatL& G, VectorXd& beta);
  bool fused_working_solve(VectorXd& beta);
  bool update_step();
  bool converged();
  bool ordinary_end() const;
#ifdef __AVX2__
  small_rows::Rows rows() const {
    return {X_.data(), X_.outerStride(), n_, p_, off_.data(), y_.data(), wt_.data()};
  }
#endif

  const Eigen::Ref<const Eigen::MatrixXd>& X_;
  const Index n_, p_;
  const VecRef& off_;
  const Family& f_;
  const GlmControl& control_;
  SmallGlmWorkspace& ws_;
  GlmResult& res_;
  const VectorXd& y_;
  const VectorXd& wt_;
  const bool binary_;
  const bool equal_binary_;  // also every prior weight the same
  const Index ones_;         // the number of responses 1
  const bool fused_;  // the logit-binomial passes of irls_small_rows.hpp

  VectorXd eta_, mu_, me_, step_me_, beta_;
  MatL R_;  // R~ of the last step
  double dev_ = 0, devold_ = 0;
  bool conv_ = false;
  int iter_ = 0;
};

// mu and mu.eta at the start (as Irls::start_means), R's check of them and the first deviance.
bool SmallIrls::start(VectorXd eta0) {
  eta_ = std::move(eta0);
  mu_.resize(n_);
  me_.resize(n_);
  if (!two_valued_start()) {
    Memo memo;  // the start eta takes few values (a function of y and the weights)
    for (Index i = 0; i < n_; ++i)
      memo.get2(eta_[i], mu_[i], me_[i],
                [&](double& m1, double& m2) { link_pair(f_, eta_[i], m1, m2); });
    VectorXd buf;
    devold_ = dev_ = deviance_rows_memo(f_, y_, mu_, wt_, buf);
  }
  if (!(validmu(f_, mu_) && valideta(f_, eta_))) return false;
  beta_ = VectorXd::Zero(p_);
  return true;
}

// The start of a 0/1 response with equal prior weights, whose starting eta takes two values
// (one per response value): mu, mu.eta and the unit deviance computed once per value, the
// deviance as n1 d1 + n0 d0 in long double. False (nothing done) otherwise.
bool SmallIrls::two_valued_start() {
  if (!equal_binary_) return false;
  double e[2], m[2], d[2], u[2];
  for (int v = 0; v < 2; ++v) {
    const Index i = first_row_of(y_, v);
    e[v] = eta_[i];
    link_pair(f_, e[v], m[v], d[v]);
    u[v] = dev_resid1(f_, y_[i], m[v], wt_[i]);
  }
  if (!select_by_response(y_, m[1], m[0], mu_.data(), eta_.data(), e[1], e[0]))
    return false;  // not two-valued after all (mu_ is filled again by the caller)
  select_by_response(y_, d[1], d[0], me_.data());
  const long double n1 = static_cast<long double>(ones_);
  const long double n0 = static_cast<long double>(n_) - n1;
  devold_ = dev_ = static_cast<double>(n1 * u[1] + n0 * u[0]);
  return true;
}

bool SmallIrls::run(VectorXd eta0) {
  if (!start(std::move(eta0))) return false;
  ws_.sw.resize(n_);
  ws_.zw.resize(n_);
  for (iter_ = 1; iter_ <= control_.maxit; ++iter_) {
    if (!iterate()) return false;
    if (converged()) break;
  }
  if (iter_ > control_.maxit) iter_ = control_.maxit;
  return ordinary_end();
}

// One iteration up to the convergence test (Irls::iterate without its rare branches).
bool SmallIrls::iterate() {
  VectorXd beta(p_);
  if (fused_) {
    if (!fused_working_solve(beta)) return false;
  } else if (!working_step() || !solve_step(beta)) {
    return false;
  }
  beta_ = beta;
  step_me_.swap(me_);  // the step's mu.eta decides its good rows
  return update_step() && std::isfinite(dev_);
}

// eta, mu, mu.eta and the deviance at beta; false when eta or mu is invalid (or not finite).
bool SmallIrls::update_step() {
#ifdef __AVX2__
  if (fused_) {
    eta_.resize(n_);
    mu_.resize(n_);
    me_.resize(n_);
    const small_rows::DevSum how = equal_binary_ ? small_rows::DevSum::EqualBinary
                                   : binary_     ? small_rows::DevSum::Binary
                                                 : small_rows::DevSum::General;
    return small_rows::logit_update(rows(), beta_.data(), how, eta_.data(), mu_.data(),
                                    me_.data(), dev_);
  }
#endif
  eta_.noalias() = X_ * beta_;
  eta_ += off_;
  link_rows(f_, eta_, mu_, me_, ws_.t);
  dev_ = deviance_of(f_, binary_, y_, mu_, wt_, ws_.dev);
  return eta_.allFinite() && valideta(f_, eta_) && validmu(f_, mu_);
}

// The working pass and the Gram matrix in one (irls_small_rows.hpp), then the step.
bool SmallIrls::fused_working_solve(VectorXd& beta) {
#ifdef __AVX2__
  Eigen::MatrixXd G = Eigen::MatrixXd::Zero(p_ + 1, p_ + 1);
  small_rows::Flags fl;
  const small_rows::Rows r = rows();
  double* sw = ws_.sw.data();
  switch (p_) {
#define RMODELS_GRAM(P)                                                                   \
  case P:                                                                                 \
    fl = small_rows::binomial_working_gram<P>(r, eta_.data(), mu_.data(), me_.data(), sw, \
                                              G.data());                                  \
    break;
    RMODELS_GRAM(1)
    RMODELS_GRAM(2)
    RMODELS_GRAM(3)
    RMODELS_GRAM(4)
    RMODELS_GRAM(5)
    RMODELS_GRAM(6)
    RMODELS_GRAM(7)
    RMODELS_GRAM(8)
#undef RMODELS_GRAM
    default:
      return false;
  }
  if (fl.bad || fl.good == 0) return false;
  MatL Gl = G.selfadjointView<Eigen::Upper>().toDenseMatrix().cast<long double>();
  return solve_gram(Gl, beta);
#else
  (void)beta;
  return false;
#endif
}

// sW and sW z (0 outside the good rows); false on any of glm.fit's conditions (NAs or zeros in
// V(mu), NAs in mu.eta, non-finite working values) or without good rows.
bool SmallIrls::working_step() {
  WorkFlags fl;
  working_rows(f_, eta_.data(), mu_.data(), me_.data(), y_.data(), wt_.data(), off_.data(),
               ws_.sw.data(), ws_.zw.data(), 0, n_, fl);
  if (fl.nan_var | fl.zero_var | fl.nan_mu_eta | fl.nonfinite) return false;
  return count_good(wt_, me_) > 0;
}

// The step's coefficients from G = [sW X  sW z]'[sW X  sW z]; false when the design is not
// well conditioned or the coefficients are not finite.
bool SmallIrls::solve_step(VectorXd& beta) {
  Eigen::MatrixXd& A = ws_.Xw;
  A.resize(n_, p_ + 1);
  for (Index j = 0; j < p_; ++j) A.col(j).array() = X_.col(j).array() * ws_.sw;
  A.col(p_) = ws_.zw.matrix();
  MatL G(p_ + 1, p_ + 1);
  for (Index a = 0; a <= p_; ++a)
    for (Index b = a; b <= p_; ++b)
      G(a, b) = G(b, a) = static_cast<long double>(A.col(a).dot(A.col(b)));
  return solve_gram(G, beta);
}

// The coefficients from the step's Gram matrix G ((p + 1) x (p + 1), the response last).
bool SmallIrls::solve_gram(const MatL& G, VectorXd& beta) {
  if (!cholesky(G, p_, R_) || !well_conditioned(R_)) return false;
  // R~' R~ beta = X'W z: forward, then back substitution.
  Eigen::Matrix<long double, Eigen::Dynamic, 1> b = G.block(0, p_, p_, 1);
  for (Index i = 0; i < p_; ++i) {
    for (Index k = 0; k < i; ++k) b[i] -= R_(k, i) * b[k];
    b[i] /= R_(i, i);
  }
  for (Index i = p_ - 1; i >= 0; --i) {
    for (Index k = i + 1; k < p_; ++k) b[i] -= R_(i, k) * b[k];
    b[i] /= R_(i, i);
  }
  beta = b.cast<double>();
  return beta.allFinite();
}

// glm.fit's convergence test.
bool SmallIrls::converged() {
  if (std::fabs(dev_ - devold_) / (0.1 + std::fabs(dev_)) < control_.epsilon) {
    conv_ = true;
    return true;
  }
  devold_ = dev_;
  return false;
}

// Whether the fit ended in R's ordinary course, away from separation: converged, every fitted
// probability at least 1e-6 from 0 and 1, every fitted rate at least 1e-6 (so neither of R's
// warnings of probabilities numerically 0 or 1 or rates numerically 0 is due). Near separation
// a coefficient runs off while the deviance settles, its standard error follows it, and the
// rounding of the steps is no longer damped: those fits, and those that did not converge,
// decline, and glm_fit gives them R's path and warnings.
bool SmallIrls::ordinary_end() const {
  if (!conv_) return false;
  constexpr double kNear = 1e-6;
  if (!mu_.allFinite()) return false;  // (mu is valid: no NaN in the extremes below)
  if (f_.variance == VarianceKind::Binomial || f_.variance == VarianceKind::QuasiBinomialVar)
    return mu_.minCoeff() >= kNear && mu_.maxCoeff() <= 1 - kNear;
  if (f_.variance == VarianceKind::Poisson || f_.variance == VarianceKind::QuasiMu)
    return mu_.minCoeff() >= kNear;
  return true;
}

void SmallIrls::finish(Eigen::MatrixXd& cov) {
  res_.working_residuals = (y_ - mu_).array() / me_.array();
  res_.working_weights = ws_.sw.square();  // sW is 0 outside the last step's good rows
  res_.good.resize(static_cast<std::size_t>(n_));
  const double* w = wt_.data();
  const double* d = step_me_.data();
  unsigned char* good = res_.good.data();
  for (Index i = 0; i < n_; ++i) good[i] = static_cast<unsigned char>(w[i] > 0) & (d[i] != 0);
  res_.coefficients = beta_;
  res_.eta = std::move(eta_);
  res_.mu = std::move(mu_);
  res_.deviance = dev_;
  res_.iter = iter_;
  res_.converged = conv_;
  res_.boundary = false;
  res_.rank = static_cast<int>(p_);
  res_.pivot.resize(static_cast<std::size_t>(p_));
  for (Index j = 0; j < p_; ++j) res_.pivot[j] = static_cast<int>(j);
  const MatL inv = upper_inverse(R_);
  cov = (inv * inv.transpose()).cast<double>();
}

// glm.fit's null deviance without an offset refit (glm.cpp's null_deviance).
double null_deviance(const Family& f, const VectorXd& y, const VectorXd& w, const VecRef& offset,
                     bool intercept, const Shape& shape) {
  if (!intercept) return deviance_sum(f, y, linkinv(f, offset), w);
  if (shape.equal_binary()) {  // wtdmu = n1 w / (n w); two unit deviances: n1 d1 + n0 d0
    const long double n1 = static_cast<long double>(shape.ones);
    const long double n = static_cast<long double>(y.size());
    const long double n0 = n - n1;
    const double wtdmu = static_cast<double>(n1 * w[0] / (n * w[0]));
    return static_cast<double>(n1 * dev_resid1(f, 1.0, wtdmu, w[0]) +
                               n0 * dev_resid1(f, 0.0, wtdmu, w[0]));
  }
  long double swy = 0, sw = 0;
  for (Index i = 0; i < y.size(); ++i) {
    swy += w[i] * y[i];
    sw += w[i];
  }
  const double wtdmu = static_cast<double>(swy / sw);
  VectorXd scratch;
  return deviance_rows_by(f, y, [wtdmu](Index) { return wtdmu; }, w, scratch, true);
}

// The starting eta = linkfun(mustart). With a 0/1 response and equal weights mustart is a
// function of y (family$initialize), so two link values serve every row; other mustarts take
// few values, often (memo).
VectorXd start_eta(const Family& f, const Shape& shape, const VectorXd& y, VectorXd mustart) {
  const Index n = y.size();
  if (shape.equal_binary()) {
    Index i1 = 0, i0 = 0;
    while (i1 < n && y[i1] != 1.0) ++i1;
    while (i0 < n && y[i0] != 0.0) ++i0;
    const double m1 = mustart[i1 < n ? i1 : i0], m0 = mustart[i0 < n ? i0 : i1];
    VectorXd eta(n);
    if (select_by_response(y, linkfun1(f, m1), linkfun1(f, m0), eta.data(), mustart.data(), m1,
                           m0))
      return eta;
  }
  Memo memo;
  for (Index i = 0; i < n; ++i)
    mustart[i] = memo.get(mustart[i], 0, 0, [&] { return linkfun1(f, mustart[i]); });
  return mustart;
}

}  // namespace

bool glm_fit_small(const Eigen::Ref<const Eigen::MatrixXd>& X,
                   const Eigen::Ref<const Eigen::MatrixXd>& Y, const VecRef& weights,
                   const VecRef& offset, bool has_offset, const Family& f,
                   const GlmControl& control, bool intercept, SmallGlmWorkspace& ws, GlmResult& res,
                   Eigen::MatrixXd& cov) {
  const Index n = X.rows();
  ws.aic_family = std::numeric_limits<double>::quiet_NaN();
  if (X.cols() == 0 || n == 0 || Y.rows() != n || (has_offset && intercept)) return false;
  Initialized init = initialize_family(f, Y, weights, /*has_start=*/false);
  const Shape shape = shape_of(init.y, init.weights);
  VectorXd eta0 = start_eta(f, shape, init.y, std::move(init.mustart));
  res = GlmResult();
  res.y = std::move(init.y);
  res.prior_weights = std::move(init.weights);
  res.n_trials = std::move(init.n);
  res.warnings = std::move(init.warnings);
  res.warning_kinds = std::move(init.warning_kinds);
  SmallIrls irls(X, offset, f, control, shape, ws, res);
  if (!irls.run(std::move(eta0))) return false;
  irls.finish(cov);
  res.null_deviance = null_deviance(f, res.y, res.prior_weights, offset, intercept, shape);
  if (f.family == FamilyKind::Binomial && unit_binary(shape, res.prior_weights, res.n_trials))
    ws.aic_family = res.deviance;
  return true;
}

}  // namespace rmodels
