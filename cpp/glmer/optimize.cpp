// The optimizer of a glmer model (glmer.hpp): NLopt's BOBYQA (the lmer driver) over theta with
// the nAGQ = 0 criterion (lme4's first stage) or over (theta, beta) with the Laplace or AGQ
// criterion (the second stage).
#include <algorithm>
#include <atomic>
#include <cmath>
#include <exception>
#include <limits>
#include <thread>
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

// The points deriv12 evaluates, in lme4's order: for each j, x + d e_j and x - d e_j, then for
// each i < j the four corners x +- d e_i +- d e_j.
namespace {
std::vector<VectorXd> deriv12_points(const VectorXd& x, double d) {
  std::vector<VectorXd> pts;
  const Eigen::Index nx = x.size();
  for (Eigen::Index j = 0; j < nx; ++j) {
    VectorXd a = x, s = x;
    a[j] += d;
    s[j] -= d;
    pts.push_back(a);
    pts.push_back(s);
    for (Eigen::Index i = 0; i < j; ++i)
      for (const double si : {d, -d})
        for (const double sj : {d, -d}) {
          VectorXd z = x;
          z[i] += si;
          z[j] += sj;
          pts.push_back(z);
        }
  }
  return pts;
}
}  // namespace

Derivs GlmerModel::deriv12(const VectorXd& x, double fx, int nagq, double delta,
                           int threads) const {
  const std::vector<VectorXd> pts = deriv12_points(x, delta);
  const auto npts = static_cast<int>(pts.size());
  std::vector<double> f(pts.size());
  std::vector<std::exception_ptr> err(pts.size());
  std::atomic<int> next{0};
  auto run = [&] {
    PirlsWork w(pattern_);
    for (int k = next++; k < npts; k = next++) {
      try {
        f[k] = evaluate(w, pts[k], nagq);
      } catch (...) {
        err[k] = std::current_exception();
      }
    }
  };
  const int nt = std::max(1, std::min(threads, npts));
  std::vector<std::thread> pool;
  for (int t = 1; t < nt; ++t) pool.emplace_back(run);
  run();
  for (auto& th : pool) th.join();
  for (const auto& e : err)
    if (e) std::rethrow_exception(e);
  // the arithmetic of lme4's deriv12, term by term
  const Eigen::Index nx = x.size();
  Derivs out;
  out.gradient = VectorXd::Zero(nx);
  out.hessian = MatrixXd::Constant(nx, nx, std::numeric_limits<double>::quiet_NaN());
  const double d2 = delta * delta, dd = (2 * delta) * (2 * delta);
  int k = 0;
  for (Eigen::Index j = 0; j < nx; ++j) {
    const double fadd = f[k++], fsub = f[k++];
    out.hessian(j, j) = fadd / d2 - 2 * fx / d2 + fsub / d2;
    out.gradient[j] = (fadd - fsub) / (2 * delta);
    for (Eigen::Index i = 0; i < j; ++i) {
      const double pp = f[k++], pm = f[k++], mp = f[k++], mm = f[k++];
      out.hessian(i, j) = out.hessian(j, i) = pp / dd - pm / dd - mp / dd + mm / dd;
    }
  }
  return out;
}

}  // namespace glmer
}  // namespace rmodels
