// Bindings for the glmer module: the GLMM object (PIRLS, the nAGQ = 0, Laplace and AGQ
// criteria, the BOBYQA stages, deriv12); converts arrays and releases the GIL.
#include <pybind11/eigen.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "glm.hpp"
#include "glm_family_bind.hpp"
#include "glmer.hpp"

namespace py = pybind11;

namespace rmodels {
using glmer::MatrixXd;
using glmer::VectorXd;

namespace {
using RowsF = Eigen::Ref<const MatrixXd>;
using VecR = Eigen::Ref<const VectorXd>;

// The model with what family$initialize made of the response (kept for Python).
struct GlmerHandle {
  std::unique_ptr<glmer::GlmerModel> model;
  Initialized init;
};

GlmerHandle* make_glmer(RowsF X, RowsF Y, VecR w, VecR off, const GlmFamily& family,
                        std::vector<Eigen::VectorXi> codes, std::vector<int> nlev,
                        std::vector<MatrixXd> zlhs, const std::string& method) {
  const int m = method == "blocked" ? 1 : method == "sparse" ? 2 : 0;
  if (codes.size() != nlev.size() || codes.size() != zlhs.size())
    throw std::invalid_argument("glmer: term lists differ in length");
  std::vector<lmer::ReTermInput> terms(codes.size());
  for (size_t t = 0; t < codes.size(); ++t) {
    terms[t].codes = std::move(codes[t]);
    terms[t].nlev = nlev[t];
    terms[t].zlhs = std::move(zlhs[t]);
  }
  auto* h = new GlmerHandle();
  const VectorXd wt = w.size() > 0 ? VectorXd(w) : VectorXd::Ones(Y.rows());
  h->init = initialize_family(family.core, Y, wt, false);
  const VectorXd eta0 = family_apply(family.core, FamilyFunction::LinkFun, h->init.mustart);
  py::gil_scoped_release nogil;
  h->model =
      std::make_unique<glmer::GlmerModel>(X, h->init.y, h->init.weights, h->init.n, VectorXd(off),
                                          family.core, std::move(terms), eta0, m);
  return h;
}

py::dict state_dict(const glmer::PirlsState& s) {
  py::dict d;
  d["u"] = s.u;
  d["beta"] = s.beta;
  d["b"] = s.b;
  d["RX"] = s.RX;
  d["eta"] = s.eta;
  d["eta_weights"] = s.eta_weights;
  d["mu"] = s.mu;
  d["ldL2"] = s.ldL2;
  d["ldRX2"] = s.ldRX2;
  d["sqrL"] = s.sqrL;
  d["devsum"] = s.devsum;
  d["aic"] = s.aic;
  d["objective"] = s.objective;
  d["iterations"] = s.iterations;
  return d;
}

void register_glmer_class(py::class_<GlmerHandle>& cls) {
  cls.def(py::init(&make_glmer), py::arg("X"), py::arg("Y"), py::arg("weights"), py::arg("offset"),
          py::arg("family"), py::arg("codes"), py::arg("nlevels"), py::arg("zlhs"),
          py::arg("method") = "auto")
      .def_property_readonly("y", [](const GlmerHandle& h) { return h.init.y; })
      .def_property_readonly("prior_weights", [](const GlmerHandle& h) { return h.init.weights; })
      .def_property_readonly("n_trials", [](const GlmerHandle& h) { return h.init.n; })
      .def_property_readonly("init_warnings",
                             [](const GlmerHandle& h) {
                               return py::make_tuple(h.init.warnings, h.init.warning_kinds);
                             })
      .def_property_readonly("ntheta", [](const GlmerHandle& h) { return h.model->ntheta(); })
      .def_property(
          "lp0", [](const GlmerHandle& h) { return h.model->lp0(); },
          [](GlmerHandle& h, const VectorXd& v) { h.model->set_lp0(v); },
          "The linear predictor (without offset) each evaluation starts PIRLS from.")
      .def(
          "set_rule",
          [](GlmerHandle& h, const VectorXd& z, const VectorXd& w, const VectorXd& ld) {
            h.model->set_rule(glmer::GhRule{z, w, ld});
          },
          py::arg("z"), py::arg("w"), py::arg("ldnorm"), "The Gauss-Hermite rule of AGQ.")
      .def(
          "set_tolerance", [](GlmerHandle& h, double tol) { h.model->set_tolerance(tol); },
          py::arg("tol_pwrss"));
}

void register_glmer_methods(py::class_<GlmerHandle>& cls) {
  cls.def(
         "pirls_ubeta",
         [](GlmerHandle& h, const VectorXd& theta, const VectorXd& eta_start) {
           py::gil_scoped_release nogil;
           h.model->pirls_ubeta(theta, eta_start);
         },
         py::arg("theta"), py::arg("eta_start"),
         "PIRLS over u and beta at theta from the linear predictor eta_start.")
      .def(
          "deviance_agq0",
          [](GlmerHandle& h, const VectorXd& theta) {
            py::gil_scoped_release nogil;
            return h.model->deviance_agq0(theta);
          },
          py::arg("theta"), "lme4's nAGQ = 0 criterion at theta.")
      .def(
          "deviance",
          [](GlmerHandle& h, const VectorXd& pars, int nagq) {
            py::gil_scoped_release nogil;
            return h.model->deviance(pars, nagq);
          },
          py::arg("pars"), py::arg("nagq") = 1,
          "lme4's Laplace (nagq = 1) or AGQ criterion at pars = (theta, beta).")
      .def(
          "fixed_rx",
          [](GlmerHandle& h, const VectorXd& theta) {
            py::gil_scoped_release nogil;
            return h.model->fixed_rx(theta);
          },
          py::arg("theta"), "R_X (lower) of the model with X at the last working weights.")
      .def(
          "state", [](const GlmerHandle& h) { return state_dict(h.model->state()); },
          "The last PIRLS result: u, beta, b, RX, eta, mu and the criterion's parts.");
}

void register_glmer_results(py::class_<GlmerHandle>& cls) {
  cls.def(
         "cond_var_blocks",
         [](GlmerHandle& h, const VectorXd& theta) {
           py::gil_scoped_release nogil;
           return h.model->cond_var_blocks(theta);
         },
         py::arg("theta"), "lme4's condVar blocks at the weights of the last PIRLS.")
      .def(
          "optimize",
          [](GlmerHandle& h, const VectorXd& x0, const VectorXd& lower, const VectorXd& step,
             int nagq, double xtol_abs, double ftol_abs, double xtol_rel, int maxeval) {
            glmer::GlmerOptim r;
            {
              py::gil_scoped_release nogil;
              r = h.model->optimize(x0, lower, step, nagq, xtol_abs, ftol_abs, xtol_rel, maxeval);
            }
            py::dict d;
            d["par"] = r.par;
            d["fval"] = r.fval;
            d["feval"] = r.feval;
            d["status"] = r.status;
            return d;
          },
          py::arg("x0"), py::arg("lower"), py::arg("step"), py::arg("nagq"), py::arg("xtol_abs"),
          py::arg("ftol_abs"), py::arg("xtol_rel"), py::arg("maxeval"),
          "BOBYQA over theta (nagq < 0: the nAGQ = 0 criterion) or (theta, beta).")
      .def(
          "deriv12",
          [](const GlmerHandle& h, const VectorXd& x, double fx, int nagq, double delta,
             int threads) {
            glmer::Derivs r;
            {
              py::gil_scoped_release nogil;
              r = h.model->deriv12(x, fx, nagq == 0 ? -1 : nagq, delta, threads);
            }
            py::dict d;
            d["gradient"] = r.gradient;
            d["Hessian"] = r.hessian;
            return d;
          },
          py::arg("x"), py::arg("fx"), py::arg("nagq"), py::arg("delta") = 1e-4,
          py::arg("threads") = 1,
          "lme4's deriv12 (central differences) of the criterion at x, f(x) = fx.");
}
}  // namespace

void register_glmer(py::module_& m) {
  py::class_<GlmerHandle> cls(m, "GlmerModel", R"doc(
A generalized linear mixed model (lme4's glmer): PIRLS on a sparse factor analysed once.

GlmerModel(X, Y, weights, offset, family, codes, nlevels, zlhs, method='auto'): Y (n, 1) or the
(n, 2) binomial matrix; family a GlmFamily (binomial or poisson); the terms as for PlsModel.
)doc");
  register_glmer_class(cls);
  register_glmer_methods(cls);
  register_glmer_results(cls);
}
}  // namespace rmodels
