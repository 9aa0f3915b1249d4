// glm.fit on small dense problems by the normal equations (see irls_small.hpp).
//
// The steps are irls.cpp's (Irls), in the same order and with R's tests: the start from
// family$initialize's mustart, then per iteration the working weights and responses
// (irls_rows::working_rows), the weighted least-squares step (here: solve_step), the linear
// predictor, means and deviance (update_step), the convergence test, and after the loop the
// check that no warning of R's is due (ordinary_end) and the null deviance. The element-wise passes
// of the logit, log and identity links and of the binomial, Poisson and gaussian deviances run over
// whole vectors: Eigen's SIMD exp and log, then branch-free loops the compiler vectorises. Their
// values differ from the libm ones of the single fit in the last bit at most, far inside the 1e-10
// the results are held to.
#include "irls_small.hpp"

#include <cfloat>
#include <cmath>
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

// Whether every response is 0 or 1 and every prior weight the same.
bool equal_binary(const VectorXd& y, const VectorXd& w) {
  bool ok = y.size() > 0;
  for (Index i = 0; i < y.size(); ++i)  // without branches: y is 0 or 1 at random
    ok &= ((y[i] == 0.0) | (y[i] == 1.0)) & (w[i] == w[0]);
  return ok;
}

// Whether every response is 0 or 1 (the binomial deviance then takes one log per row).
bool binary_response(const VectorXd& y) {
  bool ok = true;
  for (Index i = 0; i < y.size(); ++i) ok &= (y[i] == 0.0) | (y[i] == 1.0);
  return ok;
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
  MatL inv = MatL::Identity(p, p);
  Rs.triangularView<Eigen::Upper>().solveInPlace(inv);
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
            const GlmControl& control, SmallGlmWorkspace& ws, GlmResult& res)
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
        binary_(binary_response(res.y)),
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
  if (!equal_binary(y_, wt_)) return false;
  double e[2] = {0, 0}, m[2] = {0, 0}, d[2] = {0, 0}, u[2] = {0, 0};
  long double count[2] = {0, 0};
  bool seen[2] = {false, false};
  for (Index i = 0; i < n_; ++i) {
    const int v = y_[i] == 1.0;
    if (!seen[v]) {
      seen[v] = true;
      e[v] = eta_[i];
      link_pair(f_, e[v], m[v], d[v]);
      u[v] = dev_resid1(f_, y_[i], m[v], wt_[i]);
    }
    if (!(eta_[i] == e[v])) return false;  // not two-valued after all
    mu_[i] = m[v];
    me_[i] = d[v];
    count[v] += 1;
  }
  devold_ = dev_ = static_cast<double>(count[1] * u[1] + count[0] * u[0]);
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
    return small_rows::logit_update(rows(), beta_.data(), binary_, eta_.data(), mu_.data(),
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
  MatL b = G.block(0, p_, p_, 1);
  R_.triangularView<Eigen::Upper>().transpose().solveInPlace(b);
  R_.triangularView<Eigen::Upper>().solveInPlace(b);
  beta = b.col(0).cast<double>();
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
  if (f_.variance == VarianceKind::Binomial || f_.variance == VarianceKind::QuasiBinomialVar) {
    for (Index i = 0; i < n_; ++i)
      if (!(mu_[i] >= kNear && mu_[i] <= 1 - kNear)) return false;
  }
  if (f_.variance == VarianceKind::Poisson || f_.variance == VarianceKind::QuasiMu) {
    for (Index i = 0; i < n_; ++i)
      if (!(mu_[i] >= kNear)) return false;
  }
  return true;
}

void SmallIrls::finish(Eigen::MatrixXd& cov) {
  res_.working_residuals = (y_ - mu_).array() / me_.array();
  res_.working_weights = ws_.sw.square();  // sW is 0 outside the last step's good rows
  res_.good.resize(static_cast<std::size_t>(n_));
  for (Index i = 0; i < n_; ++i) res_.good[i] = (wt_[i] > 0) & (step_me_[i] != 0);
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
  MatL inv = MatL::Identity(p_, p_);
  R_.triangularView<Eigen::Upper>().solveInPlace(inv);
  cov = (inv * inv.transpose()).cast<double>();
}

// glm.fit's null deviance without an offset refit (glm.cpp's null_deviance).
double null_deviance(const Family& f, const VectorXd& y, const VectorXd& w, const VecRef& offset,
                     bool intercept) {
  if (!intercept) return deviance_sum(f, y, linkinv(f, offset), w);
  long double swy = 0, sw = 0;
  for (Index i = 0; i < y.size(); ++i) {
    swy += w[i] * y[i];
    sw += w[i];
  }
  const double wtdmu = static_cast<double>(swy / sw);
  if (equal_binary(y, w)) {  // two unit deviances: n1 d1 + n0 d0
    const long double n1 = static_cast<long double>((y.array() == 1.0).count());
    const long double n0 = static_cast<long double>(y.size()) - n1;
    return static_cast<double>(n1 * dev_resid1(f, 1.0, wtdmu, w[0]) +
                               n0 * dev_resid1(f, 0.0, wtdmu, w[0]));
  }
  VectorXd scratch;
  return deviance_rows_by(f, y, [wtdmu](Index) { return wtdmu; }, w, scratch, true);
}

}  // namespace

bool glm_fit_small(const Eigen::Ref<const Eigen::MatrixXd>& X,
                   const Eigen::Ref<const Eigen::MatrixXd>& Y, const VecRef& weights,
                   const VecRef& offset, bool has_offset, const Family& f,
                   const GlmControl& control, bool intercept, SmallGlmWorkspace& ws, GlmResult& res,
                   Eigen::MatrixXd& cov) {
  const Index n = X.rows();
  if (X.cols() == 0 || n == 0 || Y.rows() != n || (has_offset && intercept)) return false;
  Initialized init = initialize_family(f, Y, weights, /*has_start=*/false);
  VectorXd eta0 = std::move(init.mustart);
  Memo memo;  // mustart takes few values, often
  for (Index i = 0; i < n; ++i)
    eta0[i] = memo.get(eta0[i], 0, 0, [&] { return linkfun1(f, eta0[i]); });
  res = GlmResult();
  res.y = std::move(init.y);
  res.prior_weights = std::move(init.weights);
  res.n_trials = std::move(init.n);
  res.warnings = std::move(init.warnings);
  res.warning_kinds = std::move(init.warning_kinds);
  SmallIrls irls(X, offset, f, control, ws, res);
  if (!irls.run(std::move(eta0))) return false;
  irls.finish(cov);
  res.null_deviance = null_deviance(f, res.y, res.prior_weights, offset, intercept);
  return true;
}

}  // namespace rmodels
