// The optimizer driver (lmer.hpp): NLopt's BOBYQA with lme4's nloptwrap settings, run on the
// PLS criterion over theta (or, through the binding, on any objective such as the profile's).
#include <nlopt.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "lmer.hpp"

namespace rmodels {
namespace lmer {

namespace {
struct NloptData {
  PlsModel* model;
  bool reml;
  int feval;
  VectorXd theta;
  bool trace;
  std::vector<double> path;
};

double nlopt_objective(unsigned n, const double* x, double* grad, void* data) {
  (void)grad;
  auto* d = static_cast<NloptData*>(data);
  ++d->feval;
  d->theta = Eigen::Map<const VectorXd>(x, n);
  const double f = d->model->objective(d->theta, d->reml);
  if (d->trace) {
    d->path.insert(d->path.end(), x, x + n);
    d->path.push_back(f);
  }
  return std::isfinite(f) ? f : std::numeric_limits<double>::max();
}
}  // namespace

int bobyqa_minimize(unsigned n, double* x, const double* lower, const double* upper,
                    BobyqaObjective f, void* data, double xtol_abs, double ftol_abs,
                    double xtol_rel, int maxeval, double* fmin, void** handle,
                    const double* initial_step) {
  if (n == 0) {  // nothing to optimise: the objective at the empty x
    if (handle) *handle = nullptr;
    *fmin = f(0, x, nullptr, data);
    return 0;
  }
  nlopt_opt opt = nlopt_create(NLOPT_LN_BOBYQA, n);
  if (!opt) throw std::runtime_error("cannot create the NLopt optimizer");
  std::vector<double> lb(n), ub(n);
  for (unsigned i = 0; i < n; ++i) {
    lb[i] = std::isfinite(lower[i]) ? lower[i] : -HUGE_VAL;
    ub[i] = (upper && std::isfinite(upper[i])) ? upper[i] : HUGE_VAL;
  }
  nlopt_set_lower_bounds(opt, lb.data());
  if (upper) nlopt_set_upper_bounds(opt, ub.data());
  nlopt_set_min_objective(opt, f, data);
  nlopt_set_xtol_rel(opt, xtol_rel);
  nlopt_set_xtol_abs1(opt, xtol_abs);
  nlopt_set_ftol_abs(opt, ftol_abs);
  nlopt_set_maxeval(opt, maxeval);
  if (initial_step) nlopt_set_initial_step(opt, initial_step);
  if (handle) *handle = opt;
  const nlopt_result status = nlopt_optimize(opt, x, fmin);
  nlopt_destroy(opt);
  return static_cast<int>(status);
}

OptimResult PlsModel::optimize(const VectorXd& theta0, const VectorXd& lower, bool reml,
                               double xtol_abs, double ftol_abs, double xtol_rel, int maxeval,
                               bool trace) {
  const unsigned nth = static_cast<unsigned>(ntheta_);
  std::vector<double> x(theta0.data(), theta0.data() + nth);
  NloptData data{this, reml, 0, VectorXd(), trace, {}};
  double fmin = 0;
  const int status = bobyqa_minimize(nth, x.data(), lower.data(), nullptr, nlopt_objective, &data,
                                     xtol_abs, ftol_abs, xtol_rel, maxeval, &fmin);
  OptimResult res;
  res.theta = Eigen::Map<VectorXd>(x.data(), nth);
  res.fval = fmin;
  res.feval = data.feval;
  res.status = status;
  if (trace) {
    const Eigen::Index cols = nth + 1;
    res.path =
        Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
            data.path.data(), static_cast<Eigen::Index>(data.path.size()) / cols, cols);
  }
  return res;
}

}  // namespace lmer
}  // namespace rmodels
