// Bindings for the lmer module: the PLS model object, its criterion and the BOBYQA driver.
#include <nlopt.h>
#include <pybind11/eigen.h>
#include <pybind11/stl.h>

#include <cmath>
#include <exception>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "lmer.hpp"

namespace py = pybind11;

namespace rmodels {
using lmer::MatrixXd;
using lmer::VectorXd;

namespace {
using RowsF = Eigen::Ref<const MatrixXd>;  // float64, column-major (Fortran order)
using VecR = Eigen::Ref<const VectorXd>;
using CodesR = Eigen::Ref<const Eigen::VectorXi>;

// NLopt's BOBYQA on a Python objective (the profile's inner fits); the GIL stays held.
struct PyObjective {
  py::function fn;
  void* opt = nullptr;  // the running NLopt object (set by bobyqa_minimize)
  int feval = 0;
  std::exception_ptr error;  // the objective's exception, raised again after NLopt returns
};

double py_objective(unsigned n, const double* x, double* grad, void* data) {
  (void)grad;  // BOBYQA is derivative-free
  auto* d = static_cast<PyObjective*>(data);
  ++d->feval;
  try {
    py::array_t<double> arr(static_cast<py::ssize_t>(n));
    std::copy(x, x + n, arr.mutable_data());
    return d->fn(arr).cast<double>();
  } catch (...) {
    d->error = std::current_exception();
    if (d->opt) nlopt_force_stop(static_cast<nlopt_opt>(d->opt));
  }
  return HUGE_VAL;
}

py::dict criterion_dict(const lmer::Criterion& c) {
  py::dict d;
  d["ldL2"] = c.ldL2;
  d["ldRX2"] = c.ldRX2;
  d["pwrss"] = c.pwrss;
  d["ldW"] = c.ldW;
  d["deviance"] = c.deviance_ml;
  d["REML"] = c.reml;
  return d;
}

void register_bobyqa(py::module_& m) {
  m.def(
      "bobyqa",
      [](py::function fn, const VectorXd& x0, const VectorXd& lower, const VectorXd& upper,
         double xtol_abs, double ftol_abs, double xtol_rel, int maxeval) {
        const auto n = static_cast<unsigned>(x0.size());
        if (lower.size() != x0.size() || upper.size() != x0.size())
          throw py::value_error("x0, lower and upper must have the same length");
        std::vector<double> x(x0.data(), x0.data() + n);
        PyObjective data{std::move(fn)};
        double fmin = 0;
        const int status =
            lmer::bobyqa_minimize(n, x.data(), lower.data(), upper.data(), py_objective, &data,
                                  xtol_abs, ftol_abs, xtol_rel, maxeval, &fmin, &data.opt);
        if (data.error) std::rethrow_exception(data.error);
        py::dict out;
        out["par"] = Eigen::Map<VectorXd>(x.data(), n).eval();
        out["fval"] = fmin;
        out["feval"] = data.feval;
        out["status"] = status;
        return out;
      },
      py::arg("fn"), py::arg("x0"), py::arg("lower"), py::arg("upper"), py::arg("xtol_abs") = 1e-8,
      py::arg("ftol_abs") = 1e-8, py::arg("xtol_rel") = 1e-4, py::arg("maxeval") = 100000,
      "Minimise fn(x) (a Python callable) by NLopt's BOBYQA within [lower, upper] with lme4's\n"
      "nloptwrap settings; returns par, fval, feval and NLopt's status.");
}

// The constructor and the model's dimensions.
py::class_<lmer::PlsModel> register_pls_model_class(py::module_& m) {
  return py::class_<lmer::PlsModel>(m, "PlsModel", R"doc(
Penalized least squares for a linear mixed model (lme4's PLS; MixedModels.jl's blocked layout).

PlsModel(X, y, weights, offset, codes, nlevels, zlhs): X (n, p) Fortran-ordered, y (n,),
weights/offset (n,) or empty; per random-effect term (in lme4's order, most levels first):
codes (n,) int32 0-based levels, nlevels, zlhs (n, k) the term's effect columns.
method: 'blocked' (dense block for terms 2..K), 'sparse' (sparse Cholesky with AMD ordering) or
'auto' (blocked unless terms 2..K have more than dense_limit columns).
)doc")
      .def_property_readonly("is_sparse", &lmer::PlsModel::is_sparse)
      .def_property_readonly(
          "is_tiled", &lmer::PlsModel::is_tiled,
          "Blocked path with a fill-reducing order (AMD) of the dense block and a\n"
          "factorisation that skips its zero tiles (large blocks of scalar terms).")
      .def_property(
          "threads", &lmer::PlsModel::threads, &lmer::PlsModel::set_threads,
          "Threads (1 or 2) for the dense block factorisation; results do not depend on it.")
      .def(py::init([](RowsF X, VecR y, VecR w, VecR off, std::vector<Eigen::VectorXi> codes,
                       std::vector<int> nlev, std::vector<MatrixXd> zlhs, const std::string& method,
                       int dense_limit) {
             int m = 0;
             if (method == "blocked")
               m = 1;
             else if (method == "sparse")
               m = 2;
             else if (method != "auto")
               throw std::invalid_argument("lmer: method must be 'auto', 'blocked' or 'sparse'");
             if (codes.size() != nlev.size() || codes.size() != zlhs.size())
               throw std::invalid_argument("lmer: term lists differ in length");
             std::vector<lmer::ReTermInput> terms(codes.size());
             for (size_t t = 0; t < codes.size(); ++t) {
               terms[t].codes = std::move(codes[t]);
               terms[t].nlev = nlev[t];
               terms[t].zlhs = std::move(zlhs[t]);
             }
             return new lmer::PlsModel(X, y, w, off, std::move(terms), m, dense_limit);
           }),
           py::arg("X"), py::arg("y"), py::arg("weights"), py::arg("offset"), py::arg("codes"),
           py::arg("nlevels"), py::arg("zlhs"), py::arg("method") = "auto",
           py::arg("dense_limit") = 3000)
      .def_property_readonly("n", &lmer::PlsModel::n)
      .def_property_readonly("p", &lmer::PlsModel::p)
      .def_property_readonly("q", &lmer::PlsModel::q)
      .def_property_readonly("ntheta", &lmer::PlsModel::ntheta)
      .def_property_readonly(
          "rx_failed", &lmer::PlsModel::rx_failed,
          "Whether some evaluation found the downdated X'X not positive definite (lme4's\n"
          "\"Downdated VtV is not positive definite\").");
}

// The criterion and the PLS solution at theta.
void register_pls_model_methods(py::class_<lmer::PlsModel>& cls) {
  cls.def(
         "objective",
         [](lmer::PlsModel& self, const VectorXd& theta, bool reml) {
           py::gil_scoped_release nogil;
           return self.objective(theta, reml);
         },
         py::arg("theta"), py::arg("reml"),
         "REML criterion (reml=True) or ML deviance -2 log L at theta (lme4's devfun).")
      .def(
          "criterion",
          [](lmer::PlsModel& self, const VectorXd& theta) {
            lmer::Criterion c;
            {
              py::gil_scoped_release nogil;
              c = self.update_theta(theta);
            }
            return criterion_dict(c);
          },
          py::arg("theta"), "ldL2, ldRX2, pwrss, ldW, deviance and REML at theta.")
      .def(
          "solve",
          [](lmer::PlsModel& self, const VectorXd& theta) {
            lmer::Solution s;
            {
              py::gil_scoped_release nogil;
              s = self.solve(theta);
            }
            py::dict d = criterion_dict(s.crit);
            d["beta"] = s.beta;
            d["u"] = s.u;
            d["b"] = s.b;
            d["RX"] = s.RX;
            d["fitted"] = s.fitted;
            return d;
          },
          py::arg("theta"), "beta, u, b = Lambda u, R_X (lower) and fitted values at theta.");
}

// The conditional variances and the optimizer.
void register_pls_model_variances(py::class_<lmer::PlsModel>& cls) {
  cls.def(
         "cond_var_blocks",
         [](lmer::PlsModel& self, const VectorXd& theta) {
           py::gil_scoped_release nogil;
           return self.cond_var_blocks(theta);
         },
         py::arg("theta"),
         "Per term, k x (k nlev) diagonal blocks of Lambda (L_Z L_Z')^-1 Lambda' (lme4 condVar / "
         "sigma^2).")
      .def(
          "optimize",
          [](lmer::PlsModel& self, const VectorXd& theta0, const VectorXd& lower, bool reml,
             double xtol_abs, double ftol_abs, double xtol_rel, int maxeval, bool trace) {
            lmer::OptimResult r;
            {
              py::gil_scoped_release nogil;
              r = self.optimize(theta0, lower, reml, xtol_abs, ftol_abs, xtol_rel, maxeval, trace);
            }
            py::dict d;
            d["theta"] = r.theta;
            d["fval"] = r.fval;
            d["feval"] = r.feval;
            d["status"] = r.status;
            if (trace) d["path"] = r.path;
            return d;
          },
          py::arg("theta0"), py::arg("lower"), py::arg("reml"), py::arg("xtol_abs") = 1e-8,
          py::arg("ftol_abs") = 1e-8, py::arg("xtol_rel") = 1e-4, py::arg("maxeval") = 100000,
          py::arg("trace") = false,
          "Minimise the criterion with NLopt's BOBYQA (lme4's nloptwrap defaults); trace=True\n"
          "adds 'path': one row per evaluation (theta, criterion).");
}
}  // namespace

void register_lmer(py::module_& m) {
  register_bobyqa(m);
  py::class_<lmer::PlsModel> cls = register_pls_model_class(m);
  register_pls_model_methods(cls);
  register_pls_model_variances(cls);
}
}  // namespace rmodels
