// The AIC of the counting families: R's binomial()$aic and poisson()$aic.
#pragma once
#include <Eigen/Dense>
#include <vector>

#include "families.hpp"

namespace rmodels {

struct CountAic {
  double aic = 0;                   // -2 sum of the prior-weighted log densities
  std::vector<double> non_integer;  // Poisson counts that are not integers (R warns)
};

// R's binomial()$aic(y, n, mu, wt) (binomial = true) or poisson()$aic (without 2 * rank): -2 sum
// of the prior-weighted log densities by R's saddle-point method (dbinom / dpois). Unit terms are
// summed per task in long double and the tasks added in order (any thread count gives the same
// bits). Throws std::invalid_argument when the lengths differ.
CountAic glm_count_aic(bool binomial, const Eigen::Ref<const Eigen::VectorXd>& y,
                       const Eigen::Ref<const Eigen::VectorXd>& n,
                       const Eigen::Ref<const Eigen::VectorXd>& mu,
                       const Eigen::Ref<const Eigen::VectorXd>& wt);

// R's gaussian()$aic, Gamma()$aic and inverse.gaussian()$aic(y, n, mu, wt, dev) as lme4's
// glmFamily computes them (the dispersion estimated as dev / sum(wt); gaussian: dev / length(y)),
// with the "+ 2" of the dispersion parameter; MASS's negative.binomial(theta)$aic as lme4's
// negativeBinomialDist (the prior weights multiply only its first term). Throws
// std::invalid_argument for the other families.
double glm_family_aic(const Family& family, const Eigen::Ref<const Eigen::VectorXd>& y,
                          const Eigen::Ref<const Eigen::VectorXd>& mu,
                          const Eigen::Ref<const Eigen::VectorXd>& wt, double dev);

}  // namespace rmodels
