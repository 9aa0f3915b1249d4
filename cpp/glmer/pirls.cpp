// PIRLS and the criteria of a glmer model (glmer.hpp): lme4's pwrssUpdate on the reweighted
// penalized least squares model of cpp/lmer, the Laplace and nAGQ = 0 criteria.
#include <cmath>
#include <limits>
#include <stdexcept>

#include "family_aic.hpp"
#include "glm.hpp"
#include "glmer.hpp"

namespace rmodels {
namespace glmer {

namespace {
constexpr int kMaxit = 100;          // lme4 1.1-31 passes maxit = 100L to pwrssUpdate
constexpr int kMaxStepHalving = 10;  // and maxstephalfit

std::vector<lmer::ReTermInput> copy_terms(const std::vector<lmer::ReTermInput>& t) { return t; }
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
      pls_ub_(X, y, weights, VectorXd(), copy_terms(terms), method),
      pls_u_(MatrixXd(y.size(), 0), y, weights, VectorXd(), copy_terms(terms), method) {
  if (!terms.empty() && terms.size() == 1 && terms[0].zlhs.cols() == 1) {
    codes1_.assign(terms[0].codes.data(), terms[0].codes.data() + terms[0].codes.size());
    z1_ = terms[0].zlhs.col(0);
  }
}

double GlmerModel::penalized_deviance(const VectorXd& mu, const VectorXd& u) const {
  return deviance_sum(family_, y_, mu, w_) + u.squaredNorm();
}

// The family's aic(y, n, mu, wt, dev) of lme4's glmResp::Laplace, dev the sum of the deviance
// residuals (gaussian, Gamma and inverse.gaussian estimate their dispersion from it).
double GlmerModel::aic_term(const VectorXd& mu) const {
  if (family_.family == FamilyKind::Binomial) return glm_count_aic(true, y_, n_, mu, w_).aic;
  if (family_.family == FamilyKind::Poisson) return glm_count_aic(false, y_, n_, mu, w_).aic;
  return glm_family_aic(family_, y_, mu, w_, deviance_sum(family_, y_, mu, w_));
}

// Working weights w mu.eta^2 / V(mu), working response eta + (y - mu) / mu.eta and mu at eta.
void GlmerModel::working_values(const VectorXd& eta, VectorXd& wk, VectorXd& z,
                                VectorXd& mu) const {
  mu = family_apply(family_, FamilyFunction::LinkInv, eta);
  const VectorXd me = family_apply(family_, FamilyFunction::MuEta, eta);
  const VectorXd var = family_apply(family_, FamilyFunction::Variance, mu);
  wk = w_.cwiseProduct(me).cwiseProduct(me).cwiseQuotient(var);
  z = eta + (y_ - mu).cwiseQuotient(me);
}

MatrixXd GlmerModel::fixed_rx(const VectorXd& theta) {
  const Eigen::Index nobs = y_.size();
  VectorXd wk(nobs), z(nobs), mu(nobs);
  working_values(state_.eta, wk, z, mu);
  pls_ub_.reweight(wk, z, off_);
  return pls_ub_.solve(theta).RX;
}

// lme4's pwrssUpdate: from eta, reweight, solve, step-halve when the penalized deviance rises;
// converged when its relative change is below tol. off: the offset (with X beta when ubeta is
// false). Leaves the result in state_.
void GlmerModel::pirls(lmer::PlsModel& pls, const VectorXd& theta, bool ubeta, const VectorXd& off,
                       VectorXd eta) {
  const Eigen::Index nobs = y_.size();
  double oldpdev = std::numeric_limits<double>::max();
  VectorXd eta_prev = eta, u_prev = VectorXd::Zero(pls.q()), beta_prev;
  VectorXd mu(nobs), wk(nobs), z(nobs);
  bool converged = false;
  lmer::Solution s;
  int it = 0;
  VectorXd eta_w;
  for (; it < kMaxit; ++it) {
    eta_w = eta;
    working_values(eta, wk, z, mu);
    pls.reweight(wk, z, off);
    s = pls.solve(theta);
    eta = s.fitted;
    mu = family_apply(family_, FamilyFunction::LinkInv, eta);
    double pdev = penalized_deviance(mu, s.u);
    if (std::abs((oldpdev - pdev) / pdev) < tol_) {
      converged = true;
      break;
    }
    if (std::isnan(pdev) || pdev > oldpdev) {
      for (int k = 0; k < kMaxStepHalving && (std::isnan(pdev) || pdev > oldpdev); ++k) {
        s.u = (u_prev + s.u) / 2.0;
        if (ubeta) s.beta = (beta_prev + s.beta) / 2.0;
        eta = (eta_prev + eta) / 2.0;
        mu = family_apply(family_, FamilyFunction::LinkInv, eta);
        pdev = penalized_deviance(mu, s.u);
      }
      if (std::isnan(pdev) || pdev - oldpdev > tol_)
        throw std::runtime_error(
            "(maxstephalfit) PIRLS step-halvings failed to reduce deviance in pwrssUpdate");
    }
    oldpdev = pdev;
    eta_prev = eta;
    u_prev = s.u;
    beta_prev = s.beta;
  }
  if (!converged) throw std::runtime_error("pwrssUpdate did not converge in (maxit) iterations");
  state_.u = s.u;
  state_.beta = s.beta;
  state_.b = s.b;
  state_.RX = s.RX;
  state_.eta = eta;
  state_.eta_weights = eta_w;
  state_.mu = mu;
  state_.ldL2 = s.crit.ldL2;
  state_.ldRX2 = s.crit.ldRX2;
  state_.sqrL = s.u.squaredNorm();
  state_.devsum = deviance_sum(family_, y_, mu, w_);
  state_.aic = aic_term(mu);
  state_.iterations = it + 1;
  last_ubeta_ = ubeta;
}

const PirlsState& GlmerModel::pirls_ubeta(const VectorXd& theta, const VectorXd& eta_start) {
  pirls(pls_ub_, theta, true, off_, eta_start);
  state_.objective = state_.ldL2 + state_.sqrL + state_.aic;
  return state_;
}

double GlmerModel::deviance_agq0(const VectorXd& theta) {
  return pirls_ubeta(theta, off_ + lp0_).objective;
}

double GlmerModel::deviance(const VectorXd& pars, int nagq) {
  const int nth = ntheta();
  if (pars.size() != nth + p()) throw std::invalid_argument("glmer: parameters of wrong length");
  const VectorXd theta = pars.head(nth);
  const VectorXd beta = pars.tail(p());
  const VectorXd off = off_ + X_ * beta;
  pirls(pls_u_, theta, false, off, off_ + lp0_);
  state_.beta = beta;
  if (nagq <= 1) {
    state_.objective = state_.ldL2 + state_.sqrL + state_.aic;
    return state_.objective;
  }
  state_.objective = agq_criterion(theta);
  return state_.objective;
}

// Per level of the single term: u_j^2 + the deviance residuals of its rows (lme4's devcCol).
VectorXd GlmerModel::level_deviance(const VectorXd& mu, const VectorXd& u) const {
  VectorXd d = u.cwiseProduct(u);
  const VectorXd dr = family_dev_resids(family_, y_, mu, w_);
  for (Eigen::Index i = 0; i < dr.size(); ++i) d[codes1_[i]] += dr[i];
  return d;
}

// lme4's glmerAGQ at the PIRLS mode in state_.
double GlmerModel::agq_criterion(const VectorXd& theta) {
  if (codes1_.empty())
    throw std::invalid_argument("AGQ only defined for a single scalar random-effects term");
  const double sqrt2pi = std::sqrt(2.0 * M_PI);
  const VectorXd devc0 = level_deviance(state_.mu, state_.u);
  const VectorXd sd = pls_u_.scalar_factor_diagonal().cwiseInverse();
  const Eigen::Index q = sd.size();
  VectorXd mult = VectorXd::Zero(q);
  VectorXd eta(y_.size());
  for (Eigen::Index k = 0; k < rule_.z.size(); ++k) {
    const double zk = rule_.z[k];
    if (zk == 0) {
      mult.array() += rule_.w[k];
      continue;
    }
    const VectorXd u = state_.u + zk * sd;
    for (Eigen::Index i = 0; i < eta.size(); ++i)
      eta[i] = state_.eta[i] + z1_[i] * theta[0] * zk * sd[codes1_[i]];
    const VectorXd mu = family_apply(family_, FamilyFunction::LinkInv, eta);
    const VectorXd dc = level_deviance(mu, u);
    mult.array() += ((-0.5 * (dc - devc0)).array() - rule_.ldnorm[k]).exp() * rule_.w[k] / sqrt2pi;
  }
  return devc0.sum() + state_.ldL2 - 2.0 * mult.array().log().sum();
}

}  // namespace glmer
}  // namespace rmodels
