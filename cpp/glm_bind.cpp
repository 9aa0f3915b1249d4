// Bindings for the glm module: converts arrays, releases the GIL around the IRLS, returns a dict.
#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>

#include "bindings.hpp"
#include "design_rows.hpp"
#include "glm.hpp"

namespace py = pybind11;

namespace rmodels {

namespace {

using RowsRef = Eigen::Ref<const Eigen::MatrixXd>;

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
  d["trace"] = r.trace;
  d["reconstructed_steps"] = r.reconstructed_steps;
  d["gram_steps"] = r.gram_steps;
  return d;
}

void register_glm(py::module_& m) {
  py::register_exception<GlmError>(m, "GlmError", PyExc_RuntimeError);

  m.def(
      "glm_fit",
      [](const RowsRef& X, const RowsRef& Y, const Eigen::VectorXd& weights,
         const Eigen::VectorXd& offset, bool has_offset, const std::string& family,
         const std::string& link, double lambda, const std::string& variance,
         std::optional<Eigen::VectorXd> start, std::optional<Eigen::VectorXd> etastart,
         std::optional<Eigen::VectorXd> mustart, double epsilon, int maxit, bool intercept,
         int intercept_col, double theta) {
        Family f = make_family(family, link, lambda, variance, theta);
        GlmStart st{std::move(start), std::move(etastart), std::move(mustart)};
        GlmControl control{epsilon, maxit};
        GlmResult r;
        {
          py::gil_scoped_release release;
          r = glm_fit(X, Y, weights, offset, has_offset, f, st, control, intercept, intercept_col);
        }
        return glm_result_to_dict(std::move(r));
      },
      py::arg("X"), py::arg("Y"), py::arg("weights"), py::arg("offset"), py::arg("has_offset"),
      py::arg("family"), py::arg("link"), py::arg("lambda_") = 1.0, py::arg("variance") = "",
      py::arg("start") = py::none(), py::arg("etastart") = py::none(),
      py::arg("mustart") = py::none(), py::arg("epsilon") = 1e-8, py::arg("maxit") = 25,
      py::arg("intercept") = true, py::arg("intercept_col") = -1, py::arg("theta") = NAN,
      "R's glm() + glm.fit(): family initialize, IRLS with dqrdc2 pivoting and step halving, "
      "null deviance. X (n, p) and Y (n, 1|2) Fortran-ordered float64. Raises GlmError with "
      "R's message; R's warnings are returned in 'warnings'.");

  m.def(
      "glm_fit_rows",
      [](const std::shared_ptr<SparseRows>& rows, const RowsRef& Y, const Eigen::VectorXd& weights,
         const Eigen::VectorXd& offset, bool has_offset, const std::string& family,
         const std::string& link, double lambda, const std::string& variance,
         std::optional<Eigen::VectorXd> start, std::optional<Eigen::VectorXd> etastart,
         std::optional<Eigen::VectorXd> mustart, double epsilon, int maxit, bool intercept,
         int intercept_col, double theta) -> py::object {
        if (!rows) throw py::type_error("rows must be a DesignRows");
        if (Y.rows() != rows->n) throw py::value_error("Y and rows differ in length");
        Family f = make_family(family, link, lambda, variance, theta);
        GlmStart st{std::move(start), std::move(etastart), std::move(mustart)};
        GlmControl control{epsilon, maxit};
        GlmResult r;
        try {
          py::gil_scoped_release release;
          r = glm_fit(GlmDesign{nullptr, rows->n, rows->p, rows.get()}, Y, weights, offset,
                      has_offset, f, st, control, intercept, intercept_col);
        } catch (const GlmNeedsDense&) {
          return py::none();
        }
        return glm_result_to_dict(std::move(r));
      },
      py::arg("rows"), py::arg("Y"), py::arg("weights"), py::arg("offset"), py::arg("has_offset"),
      py::arg("family"), py::arg("link"), py::arg("lambda_") = 1.0, py::arg("variance") = "",
      py::arg("start") = py::none(), py::arg("etastart") = py::none(),
      py::arg("mustart") = py::none(), py::arg("epsilon") = 1e-8, py::arg("maxit") = 25,
      py::arg("intercept") = true, py::arg("intercept_col") = -1, py::arg("theta") = NAN,
      "glm_fit on a model matrix kept by rows (design_rows). Returns None when a weighted "
      "least-squares step cannot be solved from the Gram matrix (ill-conditioned or aliased "
      "columns): fit with the dense matrix then.");

  m.def(
      "glm_family_eval",
      [](const std::string& what, const std::string& family, const std::string& link, double lambda,
         const std::string& variance, const Eigen::VectorXd& a, const Eigen::VectorXd& b,
         const Eigen::VectorXd& wt, double theta) {
        Family f = make_family(family, link, lambda, variance, theta);
        const Eigen::Index n = a.size();
        Eigen::VectorXd out(n);
        if (what == "linkfun") {
          for (Eigen::Index i = 0; i < n; ++i) out[i] = linkfun1(f, a[i]);
        } else if (what == "linkinv") {
          for (Eigen::Index i = 0; i < n; ++i) out[i] = linkinv1(f, a[i]);
        } else if (what == "mu_eta") {
          for (Eigen::Index i = 0; i < n; ++i) out[i] = mu_eta1(f, a[i]);
        } else if (what == "variance") {
          for (Eigen::Index i = 0; i < n; ++i) out[i] = variance1(f, a[i]);
        } else if (what == "dev_resids") {
          for (Eigen::Index i = 0; i < n; ++i) out[i] = dev_resid1(f, a[i], b[i], wt[i]);
        } else {
          throw GlmError("unknown family function " + what);
        }
        return out;
      },
      py::arg("what"), py::arg("family"), py::arg("link"), py::arg("lambda_"), py::arg("variance"),
      py::arg("a"), py::arg("b"), py::arg("wt"), py::arg("theta") = NAN,
      "Element-wise family kernels (linkfun, linkinv, mu_eta, variance of a; dev_resids of "
      "y = a, mu = b, weights wt).");
  m.def(
      "glm_family_valid",
      [](const std::string& family, const std::string& link, double lambda,
         const std::string& variance, const Eigen::VectorXd& eta, const Eigen::VectorXd& mu,
         double theta) {
        Family f = make_family(family, link, lambda, variance, theta);
        return py::make_tuple(valideta(f, eta), validmu(f, mu));
      },
      py::arg("family"), py::arg("link"), py::arg("lambda_"), py::arg("variance"), py::arg("eta"),
      py::arg("mu"), py::arg("theta") = NAN, "(valideta(eta), validmu(mu)) of the family.");
}

}  // namespace rmodels
