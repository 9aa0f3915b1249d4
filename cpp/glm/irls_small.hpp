// glm.fit for the many small dense problems of a grouped fit: R's IRLS (irls.cpp) with every
// weighted least-squares step solved from its normal equations, and the element-wise passes of
// the common links and families on whole vectors (SIMD exp and log).
//
// Each step accumulates G = [sW X  sW z]'[sW X  sW z] (sW = sqrt of the working weights, 0
// outside the good rows) in double, factors its leading block in long double (Cholesky: R~ with
// R~'R~ = X'WX) and solves for the coefficients. This is the QR step of dqrdc2 in another
// arithmetic: for a full-rank design it has the same solution, and the covariance of the
// coefficients is (R'R)^{-1} = (R~'R~)^{-1} whatever the signs of R's rows. The path is taken only
// where the two agree to far better than 1e-10: the column-equilibrated condition number of R~
// (bounded through its Frobenius norm and that of its inverse) at most 1e2, so that dqrdc2's
// limited pivoting (tol <= 1e-7) cannot move a column and the rounding of the normal equations
// (about eps cond^2 in each step) stays near 1e-12. Anything outside R's ordinary course declines,
// and the caller fits the problem with glm_fit instead: a column dqrdc2 would move, a step that
// needs halving, non-finite working values, no good row, an offset with an intercept (whose null
// deviance needs a second IRLS), no convergence, fitted probabilities within 1e-6 of 0 or 1 or
// rates below 1e-6 (near separation the iterations no longer damp the steps' rounding). So every
// fit that ends here has no warning of its own (family$initialize's aside), and a decision depends
// on the problem's data only: the results are the same whatever the thread that fits it.
#pragma once
#include <Eigen/Dense>

#include "glm.hpp"

namespace rmodels {

// Working storage of glm_fit_small, reused by one thread from one problem to the next.
struct SmallGlmWorkspace {
  Eigen::MatrixXd Xw;  // n x (p + 1): [sW X  sW z]
  Eigen::ArrayXd sw, zw, t, dev;
  // binomial()$aic of the last fit when it is its deviance (a 0/1 response, unit weights and
  // trials), else NaN.
  double aic_family = 0;
};

// glm() + glm.fit() on X (n x p, p >= 1) as glm_fit with no starting values (offset: n values,
// zeros when has_offset is false), or false (declined: fit with glm_fit). On success `res` holds
// everything glm_fit gives except R and the trace (R left empty, boundary false, pivot the
// identity, rank p), and `cov` is (X'WX)^{-1} of the last step (R's chol2inv(R)); ws.aic_family
// is set (see SmallGlmWorkspace). Throws glm_fit's errors of family$initialize.
bool glm_fit_small(const Eigen::Ref<const Eigen::MatrixXd>& X,
                   const Eigen::Ref<const Eigen::MatrixXd>& Y, const VecRef& weights,
                   const VecRef& offset, bool has_offset, const Family& family,
                   const GlmControl& control, bool intercept, SmallGlmWorkspace& ws, GlmResult& res,
                   Eigen::MatrixXd& cov);

}  // namespace rmodels
