// Generalized linear mixed models as lme4::glmer (1.1-31) computes them.
//
// Model: g(E[y | b]) = offset + X beta + Z b, b = Lambda_theta u, u ~ N(0, I), y | b from a GLM
// family with prior weights. For given theta (and beta) the conditional mode of u is found by
// penalized iteratively reweighted least squares (PIRLS, lme4's pwrssUpdate): each step
// reweights the penalized least squares model of cpp/lmer (PlsModel::reweight) with the
// working weights w mu.eta^2 / V(mu) and solves it for the working response; the penalized
// deviance is sum of deviance residuals + ||u||^2, with step halving when it rises.
//
// Criteria (-2 log L approximations, lme4's names):
//   nAGQ = 0:  PIRLS over u and beta together; ldL2 + ||u||^2 + aic(y, n, mu, w)
//   Laplace:   beta fixed (it enters the offset as X beta), PIRLS over u only; same formula
//   AGQ:       one scalar term; per level, Gauss-Hermite quadrature around the mode with the
//              scale 1 / L_jj: sum_j devc0_j + ldL2 - 2 sum_j log(mult_j) (lme4's glmerAGQ)
// The families and their aic are those of cpp/glm (binomial, poisson, gaussian, Gamma and
// inverse.gaussian).
//
// Each PIRLS step refactors the sparse factor of re_factor.hpp, whose pattern is analysed once
// per model; every evaluation starts PIRLS from lme4's stored linear predictor lp0, so the
// criterion is a function of the parameters alone (evaluations may run on any thread, in any
// order, with the same results). lmer's blocked PLS model (cpp/lmer) gives the conditional
// variances and R_X after the fit.
#pragma once

#include <Eigen/Dense>
#include <memory>
#include <vector>

#include "families.hpp"
#include "lmer.hpp"
#include "re_factor.hpp"

namespace rmodels {
namespace glmer {

using Eigen::MatrixXd;
using Eigen::VectorXd;

// The state after PIRLS at one parameter vector.
struct PirlsState {
  VectorXd u, beta, b, eta, mu;  // beta: the fixed effects used (estimated with nAGQ = 0)
  MatrixXd RX;                   // lower factor of the fixed-effects block (nAGQ = 0 model)
  // The linear predictor at which the last factor's working weights were taken (lme4's L, RZX
  // and RX at the exit of pwrssUpdate, which hatvalues uses).
  VectorXd eta_weights;
  double ldL2 = 0, ldRX2 = 0, sqrL = 0, devsum = 0, aic = 0, objective = 0;
  int iterations = 0;
};

// One PIRLS workspace: the factor, the state it reached and the working weights and response
// of its last factorisation (what lme4's L and RX hold after an evaluation).
struct PirlsWork {
  explicit PirlsWork(std::shared_ptr<const RePattern> pattern) : re(std::move(pattern)) {}
  ReFactor re;
  PirlsState st;
  VectorXd wk, z, off;
  bool ubeta = false;  // the last PIRLS estimated beta
};

// lme4's deriv12: central finite-difference gradient and Hessian.
struct Derivs {
  VectorXd gradient;
  MatrixXd hessian;
};

struct GlmerOptim {
  VectorXd par;
  double fval = 0;
  int feval = 0;
  int status = 0;
};

// Gauss-Hermite rule for the standard normal density: nodes z, weights w (summing to 1) and
// log dnorm(z) (lme4's GHrule).
struct GhRule {
  VectorXd z, w, ldnorm;
};

class GlmerModel {
 public:
  // y, prior weights and binomial sizes n after family$initialize; eta0 the starting linear
  // predictor (g(mustart)); offset n values or empty.
  GlmerModel(const Eigen::Ref<const MatrixXd>& X, const VectorXd& y, const VectorXd& weights,
             const VectorXd& n_trials, const VectorXd& offset, const Family& family,
             std::vector<lmer::ReTermInput> terms, const VectorXd& eta0, int method);

  int n() const { return static_cast<int>(y_.size()); }
  int p() const { return static_cast<int>(X_.cols()); }
  int ntheta() const { return ntheta_; }

  // lme4's stored linear predictor lp0 (without the offset) each evaluation starts from.
  void set_lp0(const VectorXd& lp0) { lp0_ = lp0; }
  const VectorXd& lp0() const { return lp0_; }
  // PIRLS with beta estimated (nAGQ = 0 criterion) at theta, starting from eta_start.
  const PirlsState& pirls_ubeta(const VectorXd& theta, const VectorXd& eta_start);
  // The nAGQ = 0 criterion at theta (PIRLS from offset + lp0).
  double deviance_agq0(const VectorXd& theta);
  // The Laplace (nagq = 1) or adaptive Gauss-Hermite criterion at pars = (theta, beta).
  double deviance(const VectorXd& pars, int nagq);
  const PirlsState& state() const { return work_->st; }
  // Conditional covariance blocks of b (lme4's condVar) at the weights of the last PIRLS.
  std::vector<MatrixXd> cond_var_blocks(const VectorXd& theta);
  // R_X (lower, L L' = R_X'R_X) of the model with X at the working weights of the last PIRLS
  // state: lme4's RX after its final evaluation (vcov's fallback, the unscaled vcov).
  MatrixXd fixed_rx(const VectorXd& theta);
  void set_rule(const GhRule& rule) { rule_ = rule; }
  // BOBYQA (NLopt) over theta (stage 1, nagq < 0 meaning the nAGQ = 0 criterion) or over
  // (theta, beta) (stage 2 with nagq >= 1), within lower, from x0 with the initial steps step.
  GlmerOptim optimize(const VectorXd& x0, const VectorXd& lower, const VectorXd& step, int nagq,
                      double xtol_abs, double ftol_abs, double xtol_rel, int maxeval);
  void set_tolerance(double tol_pwrss) { tol_ = tol_pwrss; }
  // lme4's deriv12 of the criterion (nagq as for optimize) at x with f(x) = fx, step delta,
  // its evaluations on up to `threads` threads (the same numbers for any count); the model's
  // own state is left as it was. Throws the first failing evaluation's error.
  Derivs deriv12(const VectorXd& x, double fx, int nagq, double delta, int threads) const;

 private:
  void link_values(const VectorXd& eta, VectorXd& mu, VectorXd& me) const;
  void working_values(const VectorXd& eta, const VectorXd& mu, const VectorXd& me, VectorXd& wk,
                      VectorXd& z) const;
  void pirls(PirlsWork& w, const VectorXd& theta, bool ubeta, const VectorXd& off,
             VectorXd eta) const;
  // the criterion (nagq < 0: nAGQ = 0 with beta in PIRLS) in the workspace w
  double evaluate(PirlsWork& w, const VectorXd& pars, int nagq) const;
  double penalized_deviance(const VectorXd& mu, const VectorXd& u, double& dev) const;
  double aic_term(const VectorXd& mu) const;
  double agq_criterion(const PirlsWork& w, const VectorXd& theta) const;
  VectorXd level_deviance(const VectorXd& mu, const VectorXd& u) const;
  lmer::PlsModel& pls_model(bool ubeta);

  MatrixXd X_;
  VectorXd y_, w_, n_, off_, lp0_;
  Family family_;
  std::vector<int> codes1_;  // levels of term 1 (for AGQ)
  VectorXd z1_;              // term 1's single column (for AGQ)
  MatrixXd X0_;              // n x 0: no fixed effects in PIRLS (beta in the offset)
  std::vector<lmer::ReTermInput> terms_;
  int method_ = 0, ntheta_ = 0;
  std::shared_ptr<const RePattern> pattern_;
  std::unique_ptr<PirlsWork> work_;
  // lmer's PLS models, made when first needed: with X (u and beta) and without
  std::unique_ptr<lmer::PlsModel> pls_ub_, pls_u_;
  GhRule rule_;
  double tol_ = 1e-7;
};

}  // namespace glmer
}  // namespace rmodels
