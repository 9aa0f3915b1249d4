// The optimizer of a glmer model (glmer.hpp): NLopt's BOBYQA (the lmer driver) over theta with
// the nAGQ = 0 criterion (lme4's first stage) or over (theta, beta) with the Laplace or AGQ
// criterion (the second stage).
#include <cmath>
#include <limits>
#include <vector>

#include "glmer.hpp"

namespace rmodels {
namespace glmer {

namespace {
struct StageData {
  GlmerModel* model;
  int nagq;
  int feval;
};

double stage_objective(unsigned n, const double* x, double* grad, void* data) {
  (void)grad;
  auto* d = static_cast<StageData*>(data);
  ++d->feval;
  const VectorXd par = Eigen::Map<const VectorXd>(x, n);
  double f;
  try {
    f = d->nagq < 0 ? d->model->deviance_agq0(par) : d->model->deviance(par, d->nagq);
  } catch (const std::runtime_error&) {  // PIRLS failed at this point: not a minimum
    f = std::numeric_limits<double>::max();
  }
  return std::isfinite(f) ? f : std::numeric_limits<double>::max();
}
}  // namespace

GlmerOptim GlmerModel::optimize(const VectorXd& x0, const VectorXd& lower, const VectorXd& step,
                                int nagq, double xtol_abs, double ftol_abs, double xtol_rel,
                                int maxeval) {
  const auto n = static_cast<unsigned>(x0.size());
  std::vector<double> x(x0.data(), x0.data() + n);
  StageData data{this, nagq, 0};
  double fmin = 0;
  const int status = lmer::bobyqa_minimize(
      n, x.data(), lower.data(), nullptr, stage_objective, &data, xtol_abs, ftol_abs, xtol_rel,
      maxeval, &fmin, nullptr, step.size() == x0.size() ? step.data() : nullptr);
  GlmerOptim r;
  r.par = Eigen::Map<VectorXd>(x.data(), n);
  r.fval = fmin;
  r.feval = data.feval;
  r.status = status;
  return r;
}

}  // namespace glmer
}  // namespace rmodels
