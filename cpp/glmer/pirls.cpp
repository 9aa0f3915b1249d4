// PIRLS and the criteria of a glmer model (glmer.hpp): lme4's pwrssUpdate on the reweighted
// penalized least squares model of cpp/lmer, the Laplace and nAGQ = 0 criteria.
#include <cmath>
#include <limits>
#include <stdexcept>

#include "family_aic.hpp"
#include "glm.hpp"
#include "glmer.hpp"
#include "irls_small_rows.hpp"

namespace rmodels {
namespace glmer {

namespace {
constexpr int kMaxit = 100;          // lme4 1.1-31 passes maxit = 100L to pwrssUpdate
constexpr int kMaxStepHalving = 10;  // and maxstephalfit

// The logit link with the binomial family: pirls computes the means, mu.eta and the deviance in
// one pass (logit_binomial_pass).
bool logit_binomial(const Family& f) {
  return f.family == FamilyKind::Binomial && f.link == LinkKind::Logit;
}

bool binary_response(const VectorXd& y) {
  for (double v : y)
    if (!(v == 0.0 || v == 1.0)) return false;
  return true;
}

// Whether binomial()$aic is the deviance: a 0/1 response, unit prior weights and trials (the AIC
// is then -2 sum(log(y ? mu : 1 - mu)), the deviance's 2 sum(log(1 / (y ? mu : 1 - mu))), as the
// batch glm core uses).
bool aic_is_deviance(const Family& f, const VectorXd& y, const VectorXd& n, const VectorXd& w) {
  if (f.family != FamilyKind::Binomial || !binary_response(y)) return false;
  for (Eigen::Index i = 0; i < y.size(); ++i)
    if (!(w[i] == 1.0 && n[i] == 1.0)) return false;
  return true;
}

// mu, mu.eta of the logit link at eta (link_pair's expressions and clamps at |eta| > 30) and the
// binomial deviance (dev_resid1's expressions, summed in row order in long double as
// deviance_sum), four rows at a time with Eigen's SIMD exp and log when AVX2 is there (their
// values differ from libm's by a few units in the last place); binary: every y is 0 or 1. Without
// want_dev, only mu and mu.eta (0 returned).
double logit_binomial_pass(const VectorXd& eta, const VectorXd& y, const VectorXd& w, bool binary,
                           VectorXd& mu, VectorXd& me, bool want_dev = true) {
  const Eigen::Index n = eta.size();
  mu.resize(n);
  me.resize(n);
  long double s = 0;
  Eigen::Index i = 0;
#ifdef __AVX2__
  const __m256d v_eps = _mm256_set1_pd(DBL_EPSILON), v_big = _mm256_set1_pd(1 / DBL_EPSILON);
  const __m256d v_hi = _mm256_set1_pd(30.), v_lo = _mm256_set1_pd(-30.), one = _mm256_set1_pd(1.);
  alignas(32) double d[4];
  auto lanes = [&](__m256d e, __m256d yv, __m256d wv, double* m_out, double* me_out) {
    const __m256d above = _mm256_cmp_pd(e, v_hi, _CMP_GT_OQ);
    const __m256d below = _mm256_cmp_pd(e, v_lo, _CMP_LT_OQ);
    const __m256d t =
        _mm256_blendv_pd(_mm256_blendv_pd(Eigen::internal::pexp(e), v_big, above), v_eps, below);
    const __m256d opexp = _mm256_add_pd(one, t);
    const __m256d m = _mm256_div_pd(t, opexp);
    _mm256_storeu_pd(m_out, m);
    _mm256_storeu_pd(me_out, _mm256_blendv_pd(_mm256_div_pd(t, _mm256_mul_pd(opexp, opexp)), v_eps,
                                              _mm256_or_pd(above, below)));
    if (want_dev) _mm256_store_pd(d, small_rows::binomial_unit_deviance(yv, m, wv, binary));
  };
  for (; i + 4 <= n; i += 4) {
    lanes(_mm256_loadu_pd(eta.data() + i), _mm256_loadu_pd(y.data() + i),
          _mm256_loadu_pd(w.data() + i), mu.data() + i, me.data() + i);
    if (!want_dev) continue;
    s += d[0];
    s += d[1];
    s += d[2];
    s += d[3];
  }
  for (; i < n; ++i) {  // the last rows, one at a time through the same lanes
    alignas(32) double m4[4], me4[4];
    lanes(_mm256_set1_pd(eta[i]), _mm256_set1_pd(y[i]), _mm256_set1_pd(w[i]), m4, me4);
    mu[i] = m4[0];
    me[i] = me4[0];
    if (want_dev) s += d[0];
  }
#else
  static_cast<void>(binary);
  Family f;
  f.family = FamilyKind::Binomial;
  f.variance = VarianceKind::Binomial;
  f.link = LinkKind::Logit;
  for (; i < n; ++i) {
    link_pair(f, eta[i], mu[i], me[i]);
    if (want_dev) s += dev_resid1(f, y[i], mu[i], w[i]);
  }
#endif
  return static_cast<double>(s);
}

// Working weights and responses (working_values) with the variance function var.
template <typename Var>
void working_rows(Var var, const VectorXd& eta, const VectorXd& mu, const VectorXd& me,
                  const VectorXd& y, const VectorXd& w, VectorXd& wk, VectorXd& z) {
  const Eigen::Index nobs = eta.size();
  wk.resize(nobs);
  z.resize(nobs);
  for (Eigen::Index i = 0; i < nobs; ++i) {
    wk[i] = w[i] * me[i] * me[i] / var(mu[i]);
    z[i] = eta[i] + (y[i] - mu[i]) / me[i];
  }
}
}  // namespace

GlmerModel::GlmerModel(const Eigen::Ref<const MatrixXd>& X, const VectorXd& y,
                       const VectorXd& weights, const VectorXd& n_trials, const VectorXd& offset,
                       const Family& family, std::vector<lmer::ReTermInput> terms,
                       const VectorXd& eta0, int method)
    : X_(X),
      y_(y),
      w_(weights),
      n_(n_trials),
      off_(offset.size() > 0 ? offset : VectorXd::Zero(y.size())),
      lp0_(eta0),
      family_(family),
      X0_(y.size(), 0),
      terms_(std::move(terms)),
      method_(method) {
  if (terms_.empty()) throw std::invalid_argument("No random effects terms specified in formula");
  if (y_.size() != X_.rows()) throw std::invalid_argument("lmer: y and X differ in length");
  if (w_.size() != y_.size()) throw std::invalid_argument("lmer: weights of wrong length");
  for (Eigen::Index i = 0; i < w_.size(); ++i)
    if (!(w_[i] > 0)) throw std::invalid_argument("lmer: weights must be positive");
  for (const auto& t : terms_) ntheta_ += static_cast<int>(t.zlhs.cols() * (t.zlhs.cols() + 1) / 2);
  if (terms_.size() == 1 && terms_[0].zlhs.cols() == 1) {
    codes1_.assign(terms_[0].codes.data(), terms_[0].codes.data() + terms_[0].codes.size());
    z1_ = terms_[0].zlhs.col(0);
  }
  pattern_ = make_re_pattern(terms_, static_cast<int>(y.size()));
  work_ = std::make_unique<PirlsWork>(pattern_);
}

// lmer's PLS model with X (ubeta) or without, at the prior weights (reweighted before use).
lmer::PlsModel& GlmerModel::pls_model(bool ubeta) {
  std::unique_ptr<lmer::PlsModel>& m = ubeta ? pls_ub_ : pls_u_;
  if (!m)
    m = std::make_unique<lmer::PlsModel>(ubeta ? X_ : X0_, y_, w_, VectorXd(), terms_, method_);
  return *m;
}

std::vector<MatrixXd> GlmerModel::cond_var_blocks(const VectorXd& theta) {
  if (work_->wk.size() == 0) throw std::invalid_argument("glmer: no PIRLS result yet");
  lmer::PlsModel& pls = pls_model(work_->ubeta);
  pls.reweight(work_->wk, work_->z, work_->off);
  return pls.cond_var_blocks(theta);
}

// The deviance (sum of the deviance residuals, returned in dev) + ||u||^2.
double GlmerModel::penalized_deviance(const VectorXd& mu, const VectorXd& u, double& dev) const {
  dev = deviance_sum(family_, y_, mu, w_);
  return dev + u.squaredNorm();
}

// The family's aic(y, n, mu, wt, dev) of lme4's glmResp::Laplace, dev the sum of the deviance
// residuals (gaussian, Gamma and inverse.gaussian estimate their dispersion from it).
double GlmerModel::aic_term(const VectorXd& mu) const {
  if (family_.family == FamilyKind::Binomial) return glm_count_aic(true, y_, n_, mu, w_).aic;
  if (family_.family == FamilyKind::Poisson) return glm_count_aic(false, y_, n_, mu, w_).aic;
  return glm_family_aic(family_, y_, mu, w_, deviance_sum(family_, y_, mu, w_));
}

// mu and mu.eta at eta (the family's linkinv and mu.eta, sharing exp(eta) where they can).
void GlmerModel::link_values(const VectorXd& eta, VectorXd& mu, VectorXd& me) const {
  const Eigen::Index nobs = eta.size();
  mu.resize(nobs);
  me.resize(nobs);
  for (Eigen::Index i = 0; i < nobs; ++i) link_pair(family_, eta[i], mu[i], me[i]);
}

// Working weights w mu.eta^2 / V(mu) and working response eta + (y - mu) / mu.eta (the same
// operations as the family's vector functions).
void GlmerModel::working_values(const VectorXd& eta, const VectorXd& mu, const VectorXd& me,
                                VectorXd& wk, VectorXd& z) const {
  if (family_.variance == VarianceKind::Binomial)  // variance1's expression, inlined
    working_rows([](double m) { return m * (1 - m); }, eta, mu, me, y_, w_, wk, z);
  else
    working_rows([this](double m) { return variance1(family_, m); }, eta, mu, me, y_, w_, wk, z);
}

MatrixXd GlmerModel::fixed_rx(const VectorXd& theta) {
  const Eigen::Index nobs = y_.size();
  VectorXd wk(nobs), z(nobs), mu(nobs), me(nobs);
  link_values(work_->st.eta, mu, me);
  working_values(work_->st.eta, mu, me, wk, z);
  lmer::PlsModel& pls = pls_model(true);
  pls.reweight(wk, z, off_);
  return pls.solve(theta).RX;
}

namespace {
VectorXd link_inverse(const Family& f, const VectorXd& eta) {
  VectorXd mu(eta.size());
  for (Eigen::Index i = 0; i < eta.size(); ++i) mu[i] = linkinv1(f, eta[i]);
  return mu;
}
}  // namespace

// lme4's pwrssUpdate: from eta, reweight, solve, step-halve when the penalized deviance rises;
// converged when its relative change is below tol. off: the offset (with X beta when ubeta is
// false). Leaves the result in w.st.
void GlmerModel::pirls(PirlsWork& w, const VectorXd& theta, bool ubeta, const VectorXd& off,
                       VectorXd eta) const {
  const MatrixXd& X = ubeta ? X_ : X0_;
  ReFactor& re = w.re;
  re.set_theta(theta);
  double oldpdev = std::numeric_limits<double>::max();
  VectorXd eta_prev = eta, u_prev = VectorXd::Zero(re.q()), beta_prev = VectorXd::Zero(X.cols());
  VectorXd mu, me, u, beta;
  double dev = 0;
  const bool fused = logit_binomial(family_), binary = fused && binary_response(y_);
  // mu, mu.eta at eta and the penalized deviance (dev: the deviance).
  auto update = [&](const VectorXd& e) {
    if (!fused) {
      link_values(e, mu, me);
      return penalized_deviance(mu, u, dev);
    }
    dev = logit_binomial_pass(e, y_, w_, binary, mu, me);
    return dev + u.squaredNorm();
  };
  if (fused)
    logit_binomial_pass(eta, y_, w_, binary, mu, me, /*want_dev=*/false);
  else
    link_values(eta, mu, me);
  bool converged = false;
  int it = 0;
  VectorXd eta_w, resp;  // resp: the working response less the offset
  for (; it < kMaxit; ++it) {
    eta_w = eta;
    working_values(eta, mu, me, w.wk, w.z);
    re.factor(w.wk, X);
    resp = w.z - off;
    re.solve(w.wk, resp, X, u, beta);
    eta = off;
    if (ubeta) eta.noalias() += X * beta;
    re.add_z_lambda_u(u, eta);
    double pdev = update(eta);
    if (std::abs((oldpdev - pdev) / pdev) < tol_) {
      converged = true;
      break;
    }
    if (std::isnan(pdev) || pdev > oldpdev) {
      for (int k = 0; k < kMaxStepHalving && (std::isnan(pdev) || pdev > oldpdev); ++k) {
        u = (u_prev + u) / 2.0;
        if (ubeta) beta = (beta_prev + beta) / 2.0;
        eta = (eta_prev + eta) / 2.0;
        pdev = update(eta);
      }
      if (std::isnan(pdev) || pdev - oldpdev > tol_)
        throw std::runtime_error(
            "(maxstephalfit) PIRLS step-halvings failed to reduce deviance in pwrssUpdate");
    }
    oldpdev = pdev;
    eta_prev = eta;
    u_prev = u;
    beta_prev = beta;
  }
  if (!converged) throw std::runtime_error("pwrssUpdate did not converge in (maxit) iterations");
  PirlsState& st = w.st;
  st.u = u;
  st.beta = beta;
  st.b = re.lambda_u(u);
  st.RX = re.RX();
  st.eta = eta;
  st.eta_weights = eta_w;
  st.mu = mu;
  st.ldL2 = re.ldL2();
  st.ldRX2 = re.ldRX2();
  st.sqrL = u.squaredNorm();
  st.devsum = dev;  // the deviance at the final mu
  st.aic = aic_is_deviance(family_, y_, n_, w_) ? dev : aic_term(mu);
  st.iterations = it + 1;
  w.off = off;
  w.ubeta = ubeta;
}

const PirlsState& GlmerModel::pirls_ubeta(const VectorXd& theta, const VectorXd& eta_start) {
  pirls(*work_, theta, true, off_, eta_start);
  PirlsState& st = work_->st;
  st.objective = st.ldL2 + st.sqrL + st.aic;
  return st;
}

double GlmerModel::deviance_agq0(const VectorXd& theta) { return evaluate(*work_, theta, -1); }

double GlmerModel::deviance(const VectorXd& pars, int nagq) {
  return evaluate(*work_, pars, nagq < 0 ? 1 : nagq);
}

double GlmerModel::evaluate(PirlsWork& w, const VectorXd& pars, int nagq) const {
  PirlsState& st = w.st;
  if (nagq < 0) {
    pirls(w, pars, true, off_, off_ + lp0_);
    st.objective = st.ldL2 + st.sqrL + st.aic;
    return st.objective;
  }
  const int nth = ntheta();
  if (pars.size() != nth + p()) throw std::invalid_argument("glmer: parameters of wrong length");
  const VectorXd theta = pars.head(nth);
  const VectorXd beta = pars.tail(p());
  const VectorXd off = off_ + X_ * beta;
  pirls(w, theta, false, off, off_ + lp0_);
  st.beta = beta;
  st.objective = nagq <= 1 ? st.ldL2 + st.sqrL + st.aic : agq_criterion(w, theta);
  return st.objective;
}

// Per level of the single term: u_j^2 + the deviance residuals of its rows (lme4's devcCol).
VectorXd GlmerModel::level_deviance(const VectorXd& mu, const VectorXd& u) const {
  VectorXd d = u.cwiseProduct(u);
  const VectorXd dr = family_dev_resids(family_, y_, mu, w_);
  for (Eigen::Index i = 0; i < dr.size(); ++i) d[codes1_[i]] += dr[i];
  return d;
}

// lme4's glmerAGQ at the PIRLS mode in w.st.
double GlmerModel::agq_criterion(const PirlsWork& w, const VectorXd& theta) const {
  if (codes1_.empty())
    throw std::invalid_argument("AGQ only defined for a single scalar random-effects term");
  const double sqrt2pi = std::sqrt(2.0 * M_PI);
  const PirlsState& st = w.st;
  const VectorXd devc0 = level_deviance(st.mu, st.u);
  const VectorXd sd = w.re.scalar_diagonal().cwiseInverse();
  const Eigen::Index q = sd.size();
  VectorXd mult = VectorXd::Zero(q);
  VectorXd eta(y_.size());
  for (Eigen::Index k = 0; k < rule_.z.size(); ++k) {
    const double zk = rule_.z[k];
    if (zk == 0) {
      mult.array() += rule_.w[k];
      continue;
    }
    const VectorXd u = st.u + zk * sd;
    for (Eigen::Index i = 0; i < eta.size(); ++i)
      eta[i] = st.eta[i] + z1_[i] * theta[0] * zk * sd[codes1_[i]];
    const VectorXd mu = link_inverse(family_, eta);
    const VectorXd dc = level_deviance(mu, u);
    mult.array() += ((-0.5 * (dc - devc0)).array() - rule_.ldnorm[k]).exp() * rule_.w[k] / sqrt2pi;
  }
  return devc0.sum() + st.ldL2 - 2.0 * mult.array().log().sum();
}

}  // namespace glmer
}  // namespace rmodels
