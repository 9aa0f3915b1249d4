// Generalized linear models by iteratively reweighted least squares, as R 4.2.2's glm.fit.
#pragma once
#include <Eigen/Dense>
#include <exception>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "families.hpp"

namespace rmodels {

// glm.control(): convergence when |dev - dev_old| / (|dev| + 0.1) < epsilon, at most maxit
// iterations. The QR tolerance of every weighted least-squares step is min(1e-7, epsilon / 1000).
struct GlmControl {
  double epsilon = 1e-8;
  int maxit = 25;
};

// Everything glm.fit returns that the fit object needs (n rows, p columns of X).
//   coefficients  p   original column order, NaN for aliased columns
//   mu, eta       n   fitted means and linear predictors (eta includes the offset)
//   working_weights  n   w * mu.eta^2 / V(mu) of the last iteration (evaluated at the mu that
//                     entered it), 0 for rows that were not "good"
//   working_residuals n  (y - mu) / mu.eta(eta) at the final eta
//   R             p x p the R factor of the last weighted QR (pivoted order; rows beyond the
//                 number of good rows are those of the identity, as R's Rmat)
//   pivot         p   0-based original column of each pivoted column; rank
//   y, prior_weights, n_trials  after family$initialize (binomial proportions, trials)
//   good          n   rows used in the last weighted least-squares step
//   null_deviance, deviance, iter, converged, boundary; warnings in the order R gives them,
//   warning_kinds their kinds (one per warning)
struct GlmResult {
  Eigen::VectorXd coefficients, mu, eta, working_weights, working_residuals;
  Eigen::MatrixXd R;
  std::vector<int> pivot;
  int rank = 0;
  Eigen::VectorXd y, prior_weights, n_trials;
  std::vector<unsigned char> good;
  double deviance = 0, null_deviance = 0;
  int iter = 0;
  bool converged = false, boundary = false;
  std::vector<std::string> warnings;
  std::vector<GlmWarningKind> warning_kinds;
  // R's control$trace output: deviance after each iteration ("Deviance = ... Iterations - k")
  // and after each step-halving ("Step halved: new deviance = ..."), in order.
  std::vector<std::string> trace;
  // Weighted least-squares steps solved by the reconstruction path of qr_tall.hpp.
  int reconstructed_steps = 0;
  // Weighted least-squares steps solved from the weighted Gram matrix of a sparse design.
  int gram_steps = 0;

  // Records one of R's warnings with its kind.
  void warn(GlmWarningKind kind, std::string message) {
    warnings.push_back(std::move(message));
    warning_kinds.push_back(kind);
  }
};

// The model matrix of a fit: dense (n x p, column-major, X) and/or kept by rows (rows, see
// design_rows.hpp). Without X, every weighted least-squares step must take the Gram path; a step
// that cannot throws GlmNeedsDense (the caller then fits again with the dense matrix).
struct SparseRows;
struct GlmDesign {
  const double* X = nullptr;
  Eigen::Index n = 0, p = 0;
  const SparseRows* rows = nullptr;
};

struct GlmNeedsDense : std::exception {
  const char* what() const noexcept override { return "glm: the dense model matrix is needed"; }
};

// Starting values: at most one of start (p coefficients), etastart (n) and mustart (n) is used,
// in R's order of precedence etastart > start > mustart > family$initialize.
struct GlmStart {
  std::optional<Eigen::VectorXd> start, etastart, mustart;
};

using VecRef = Eigen::Ref<const Eigen::VectorXd>;

// The IRLS loop of glm.fit from a starting linear predictor eta0 (coefold: the coefficients
// step-halving falls back to, R's `start` when given). y, weights are post-initialize; they and
// eta0 are taken over (moved into the result). scratch, when given, is an n-vector of working
// space the caller may reuse afterwards.
GlmResult glm_irls(const GlmDesign& X, Eigen::VectorXd y, Eigen::VectorXd weights,
                   const VecRef& offset, const Family& family, Eigen::VectorXd eta0,
                   const std::optional<Eigen::VectorXd>& coefold, const GlmControl& control,
                   Eigen::VectorXd* scratch = nullptr);

// glm() + glm.fit(): initialize, start, IRLS, warnings, and the null deviance (intercept-only
// refit with the offset when the model has both, as stats::glm does). intercept_col is the
// 0-based column of "(Intercept)" in X or -1.
GlmResult glm_fit(const Eigen::Ref<const Eigen::MatrixXd>& X,
                  const Eigen::Ref<const Eigen::MatrixXd>& Y, const VecRef& weights,
                  const VecRef& offset, bool has_offset, const Family& family,
                  const GlmStart& start, const GlmControl& control, bool intercept,
                  int intercept_col);
GlmResult glm_fit(const GlmDesign& X, const Eigen::Ref<const Eigen::MatrixXd>& Y,
                  const VecRef& weights, const VecRef& offset, bool has_offset,
                  const Family& family, const GlmStart& start, const GlmControl& control,
                  bool intercept, int intercept_col);

// Family from R's names: family "gaussian" | "binomial" | "quasibinomial" | "poisson" |
// "quasipoisson" | "Gamma" | "inverse.gaussian" | "quasi"; link as R names it ("logit", "1/mu^2",
// "mu^0.5" for power links: give lambda); variance for quasi ("constant", "mu(1-mu)", "mu",
// "mu^2", "mu^3").
// "negative.binomial" is MASS's family with the given theta.
Family make_family(const std::string& family, const std::string& link, double lambda,
                   const std::string& variance, double theta = NAN);

// The element-wise family functions over a vector: g(a), g^{-1}(a), d mu / d eta at a, V(a).
enum class FamilyFunction { LinkFun, LinkInv, MuEta, Variance };
Eigen::VectorXd family_apply(const Family& family, FamilyFunction what, const VecRef& a);

// Unit deviances times prior weights (R's family$dev.resids(y, mu, wt)).
Eigen::VectorXd family_dev_resids(const Family& family, const VecRef& y, const VecRef& mu,
                                  const VecRef& wt);

}  // namespace rmodels
