// Bindings for the glm module: the family object (GlmFamily), the error and warning kinds, and
// glm_fit; converts arrays, releases the GIL around the IRLS, returns a dict.
#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <string>

#include "bindings.hpp"
#include "design_rows.hpp"
#include "family_aic.hpp"
#include "glm.hpp"
#include "glm_family_bind.hpp"

namespace py = pybind11;

namespace rmodels {

namespace {

using RowsRef = Eigen::Ref<const Eigen::MatrixXd>;
using OptVec = std::optional<Eigen::VectorXd>;

void register_kinds(py::module_& m) {
  py::enum_<GlmErrorKind>(m, "GlmErrorKind", "What a GlmError is about (cpp/glm/families.hpp).")
      .value("ResponseValues", GlmErrorKind::ResponseValues)
      .value("ResponseShape", GlmErrorKind::ResponseShape)
      .value("InvalidArgument", GlmErrorKind::InvalidArgument)
      .value("NoValidStart", GlmErrorKind::NoValidStart)
      .value("NoValidCoefficients", GlmErrorKind::NoValidCoefficients)
      .value("StepCorrection", GlmErrorKind::StepCorrection)
      .value("InvalidWorkingValues", GlmErrorKind::InvalidWorkingValues)
      .value("EmptyModel", GlmErrorKind::EmptyModel)
      .value("RankExceedsObservations", GlmErrorKind::RankExceedsObservations)
      .value("NoInformativeObservations", GlmErrorKind::NoInformativeObservations);
  py::enum_<GlmWarningKind>(m, "GlmWarningKind",
                            "Which of R's glm.fit warnings a message is (cpp/glm/families.hpp).")
      .value("NotConverged", GlmWarningKind::NotConverged)
      .value("NullDevianceNotConverged", GlmWarningKind::NullDevianceNotConverged)
      .value("Boundary", GlmWarningKind::Boundary)
      .value("FittedProbabilitiesZeroOne", GlmWarningKind::FittedProbabilitiesZeroOne)
      .value("FittedRatesZero", GlmWarningKind::FittedRatesZero)
      .value("NoInformativeObservations", GlmWarningKind::NoInformativeObservations)
      .value("NonFiniteCoefficients", GlmWarningKind::NonFiniteCoefficients)
      .value("StepTruncatedDivergence", GlmWarningKind::StepTruncatedDivergence)
      .value("StepTruncatedOutOfBounds", GlmWarningKind::StepTruncatedOutOfBounds)
      .value("NonIntegerSuccesses", GlmWarningKind::NonIntegerSuccesses)
      .value("NonIntegerCounts", GlmWarningKind::NonIntegerCounts);
}

// GlmError as a Python exception (a RuntimeError) carrying `kind`.
void register_glm_error(py::module_& m) {
  static py::exception<GlmError> error_type(m, "GlmError", PyExc_RuntimeError);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const GlmError& e) {
      py::object type = py::reinterpret_borrow<py::object>(error_type.ptr());
      py::object exc = type(e.what());
      exc.attr("kind") = py::cast(e.kind);
      PyErr_SetObject(error_type.ptr(), exc.ptr());
    }
  });
}

py::object family_vector(const GlmFamily& f, FamilyFunction what, const VecRef& a) {
  return py::cast(family_apply(f.core, what, a));
}

void register_family(py::module_& m) {
  py::class_<GlmFamily>(m, "GlmFamily",
                        "A GLM family for the compiled core, made once per Python Family:\n"
                        "GlmFamily(family, link, lambda_=1, variance='', theta=nan) with R's\n"
                        "names (family 'gaussian', 'binomial', ..., 'negative.binomial'; link\n"
                        "'logit', ..., 'mu^0.5' with lambda_ for power links; variance for\n"
                        "quasi). Its methods are the element-wise family functions.")
      .def(py::init<std::string, std::string, double, std::string, double>(), py::arg("family"),
           py::arg("link"), py::arg("lambda_") = 1.0, py::arg("variance") = "",
           py::arg("theta") = NAN)
      .def_readonly("family", &GlmFamily::family)
      .def_readonly("link", &GlmFamily::link)
      .def_readonly("variance_name", &GlmFamily::variance)
      .def_readonly("lambda_", &GlmFamily::lambda)
      .def_readonly("theta", &GlmFamily::theta)
      .def(
          "linkfun",
          [](const GlmFamily& f, const VecRef& mu) {
            return family_vector(f, FamilyFunction::LinkFun, mu);
          },
          py::arg("mu"), "g(mu).")
      .def(
          "linkinv",
          [](const GlmFamily& f, const VecRef& eta) {
            return family_vector(f, FamilyFunction::LinkInv, eta);
          },
          py::arg("eta"), "g^{-1}(eta) with R's clamps.")
      .def(
          "mu_eta",
          [](const GlmFamily& f, const VecRef& eta) {
            return family_vector(f, FamilyFunction::MuEta, eta);
          },
          py::arg("eta"), "d mu / d eta (R's mu.eta).")
      .def(
          "variance",
          [](const GlmFamily& f, const VecRef& mu) {
            return family_vector(f, FamilyFunction::Variance, mu);
          },
          py::arg("mu"), "V(mu).")
      .def(
          "dev_resids",
          [](const GlmFamily& f, const VecRef& y, const VecRef& mu, const VecRef& wt) {
            return family_dev_resids(f.core, y, mu, wt);
          },
          py::arg("y"), py::arg("mu"), py::arg("wt"), "Unit deviances times prior weights.")
      .def(
          "valid",
          [](const GlmFamily& f, const Eigen::VectorXd& eta, const Eigen::VectorXd& mu) {
            return py::make_tuple(valideta(f.core, eta), validmu(f.core, mu));
          },
          py::arg("eta"), py::arg("mu"), "(valideta(eta), validmu(mu)) of the family.")
      .def(py::pickle(
          [](const GlmFamily& f) {
            return py::make_tuple(f.family, f.link, f.lambda, f.variance, f.theta);
          },
          [](const py::tuple& t) {
            return GlmFamily(t[0].cast<std::string>(), t[1].cast<std::string>(),
                             t[2].cast<double>(), t[3].cast<std::string>(), t[4].cast<double>());
          }));
}

// glm_fit / glm_fit_rows on a design: starting values and control from Python, the GIL released.
template <typename Design>
GlmResult fit_glm(const Design& X, const RowsRef& Y, const VecRef& weights, const VecRef& offset,
                  bool has_offset, const GlmFamily& family, OptVec start, OptVec etastart,
                  OptVec mustart, double epsilon, int maxit, bool intercept, int intercept_col) {
  GlmStart st{std::move(start), std::move(etastart), std::move(mustart)};
  GlmControl control{epsilon, maxit};
  py::gil_scoped_release release;
  return glm_fit(X, Y, weights, offset, has_offset, family.core, st, control, intercept,
                 intercept_col);
}

}  // namespace

// The n-vectors are moved into the arrays (no copies).
py::dict glm_result_to_dict(GlmResult&& r) {
  py::dict d;
  d["coefficients"] = py::cast(std::move(r.coefficients));
  d["fitted"] = py::cast(std::move(r.mu));
  d["linear_predictors"] = py::cast(std::move(r.eta));
  d["working_weights"] = py::cast(std::move(r.working_weights));
  d["working_residuals"] = py::cast(std::move(r.working_residuals));
  d["R"] = py::cast(std::move(r.R));
  d["pivot"] = r.pivot;
  d["rank"] = r.rank;
  d["y"] = py::cast(std::move(r.y));
  d["prior_weights"] = py::cast(std::move(r.prior_weights));
  d["n_trials"] = py::cast(std::move(r.n_trials));
  py::array_t<bool> good(static_cast<py::ssize_t>(r.good.size()));
  std::copy(r.good.begin(), r.good.end(), good.mutable_data());
  d["good"] = good;
  d["deviance"] = r.deviance;
  d["null_deviance"] = r.null_deviance;
  d["iter"] = r.iter;
  d["converged"] = r.converged;
  d["boundary"] = r.boundary;
  d["warnings"] = r.warnings;
  d["warning_kinds"] = r.warning_kinds;
  d["trace"] = r.trace;
  d["reconstructed_steps"] = r.reconstructed_steps;
  d["gram_steps"] = r.gram_steps;
  return d;
}

namespace {

void def_glm_fit(py::module_& m) {
  m.def(
      "glm_fit",
      [](const RowsRef& X, const RowsRef& Y, const VecRef& weights, const VecRef& offset,
         bool has_offset, const GlmFamily& family, OptVec start, OptVec etastart, OptVec mustart,
         double epsilon, int maxit, bool intercept, int intercept_col) {
        return glm_result_to_dict(fit_glm(X, Y, weights, offset, has_offset, family,
                                          std::move(start), std::move(etastart), std::move(mustart),
                                          epsilon, maxit, intercept, intercept_col));
      },
      py::arg("X"), py::arg("Y"), py::arg("weights"), py::arg("offset"), py::arg("has_offset"),
      py::arg("family"), py::arg("start") = py::none(), py::arg("etastart") = py::none(),
      py::arg("mustart") = py::none(), py::arg("epsilon") = 1e-8, py::arg("maxit") = 25,
      py::arg("intercept") = true, py::arg("intercept_col") = -1,
      "R's glm() + glm.fit(): family initialize, IRLS with dqrdc2 pivoting and step halving, "
      "null deviance. X (n, p) and Y (n, 1|2) Fortran-ordered float64; family a GlmFamily. "
      "Raises GlmError (with .kind, a GlmErrorKind) with R's message; R's warnings are "
      "returned in 'warnings', their kinds (GlmWarningKind) in 'warning_kinds'.");
}

void def_glm_fit_rows(py::module_& m) {
  m.def(
      "glm_fit_rows",
      [](const std::shared_ptr<SparseRows>& rows, const RowsRef& Y, const VecRef& weights,
         const VecRef& offset, bool has_offset, const GlmFamily& family, OptVec start,
         OptVec etastart, OptVec mustart, double epsilon, int maxit, bool intercept,
         int intercept_col) -> py::object {
        if (!rows) throw py::type_error("rows must be a DesignRows");
        if (Y.rows() != rows->n) throw py::value_error("Y and rows differ in length");
        GlmResult r;
        try {
          r = fit_glm(GlmDesign{nullptr, rows->n, rows->p, rows.get()}, Y, weights, offset,
                      has_offset, family, std::move(start), std::move(etastart), std::move(mustart),
                      epsilon, maxit, intercept, intercept_col);
        } catch (const GlmNeedsDense&) {
          return py::none();
        }
        return glm_result_to_dict(std::move(r));
      },
      py::arg("rows"), py::arg("Y"), py::arg("weights"), py::arg("offset"), py::arg("has_offset"),
      py::arg("family"), py::arg("start") = py::none(), py::arg("etastart") = py::none(),
      py::arg("mustart") = py::none(), py::arg("epsilon") = 1e-8, py::arg("maxit") = 25,
      py::arg("intercept") = true, py::arg("intercept_col") = -1,
      "glm_fit on a model matrix kept by rows (design_rows). Returns None when a weighted "
      "least-squares step cannot be solved from the Gram matrix (ill-conditioned or aliased "
      "columns): fit with the dense matrix then.");
}

void def_glm_count_aic(py::module_& m) {
  m.def(
      "glm_count_aic",
      [](const std::string& family, const VecRef& y, const VecRef& n, const VecRef& mu,
         const VecRef& wt) {
        const bool binomial = family == "binomial";
        if (!binomial && family != "poisson")
          throw py::value_error("family must be \"binomial\" or \"poisson\"");
        CountAic r;
        {
          py::gil_scoped_release release;
          r = glm_count_aic(binomial, y, n, mu, wt);
        }
        return py::make_tuple(r.aic, r.non_integer);
      },
      py::arg("family"), py::arg("y"), py::arg("n"), py::arg("mu"), py::arg("wt"),
      "R's binomial()$aic(y, n, mu, wt) or poisson()$aic (without 2 * rank): -2 sum of the "
      "prior-weighted log densities by R's saddle-point method (dbinom/dpois). Returns (aic, "
      "the non-integer Poisson counts, for R's warning).");
}

}  // namespace

void register_glm(py::module_& m) {
  register_kinds(m);
  register_glm_error(m);
  register_family(m);
  def_glm_fit(m);
  def_glm_fit_rows(m);
  def_glm_count_aic(m);
}

}  // namespace rmodels
