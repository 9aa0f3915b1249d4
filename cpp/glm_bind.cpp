// Bindings for the glm module: converts arrays, releases the GIL around the IRLS, returns a dict.
#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>

#include "big_alloc.hpp"
#include "bindings.hpp"
#include "densities.hpp"
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
      [](const RowsRef& X, const RowsRef& Y, const VecRef& weights, const VecRef& offset,
         bool has_offset, const std::string& family, const std::string& link, double lambda,
         const std::string& variance, std::optional<Eigen::VectorXd> start,
         std::optional<Eigen::VectorXd> etastart, std::optional<Eigen::VectorXd> mustart,
         double epsilon, int maxit, bool intercept, int intercept_col, double theta) {
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
      [](const std::shared_ptr<SparseRows>& rows, const RowsRef& Y, const VecRef& weights,
         const VecRef& offset, bool has_offset, const std::string& family, const std::string& link,
         double lambda, const std::string& variance, std::optional<Eigen::VectorXd> start,
         std::optional<Eigen::VectorXd> etastart, std::optional<Eigen::VectorXd> mustart,
         double epsilon, int maxit, bool intercept, int intercept_col, double theta) -> py::object {
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
      "rows_matvec",
      [](const std::shared_ptr<SparseRows>& rows, const VecRef& b) {
        if (!rows) throw py::type_error("rows must be a DesignRows");
        if (b.size() != rows->p) throw py::value_error("b must have p entries");
        Eigen::VectorXd out = big_vector(rows->n);
        {
          py::gil_scoped_release release;
          for_tasks(rows->n, kRowChunk, [&](Eigen::Index, Eigen::Index lo, Eigen::Index hi) {
            const SparseRows::Piece& pc = rows->piece(lo);  // a task is one piece
            for (Eigen::Index i = lo; i < hi; ++i) {
              double s = 0.0;
              for (std::uint32_t a = pc.start[i - lo]; a < pc.start[i - lo + 1]; ++a) {
                const double bj = b[pc.index[a]];
                if (bj != 0.0) s += bj * pc.value[a];
              }
              out[i] = s;
            }
          });
        }
        return out;
      },
      py::arg("rows"), py::arg("b"),
      "X b over the rows of a DesignRows, each row summed over its columns in order with zero "
      "coefficients skipped (reference BLAS's accumulation order, as R's X %*% b).");

  m.def(
      "rows_hat",
      [](const std::shared_ptr<SparseRows>& rows, const Eigen::Ref<const Eigen::MatrixXd>& M,
         const VecRef& w) {
        if (!rows) throw py::type_error("rows must be a DesignRows");
        if (M.rows() != rows->p || M.cols() != rows->p) throw py::value_error("M must be p x p");
        if (w.size() != rows->n) throw py::value_error("w and rows differ in length");
        Eigen::VectorXd h = big_vector(rows->n);
        {
          py::gil_scoped_release release;
          for_tasks(rows->n, kRowChunk, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
            const SparseRows::Piece& pc = rows->piece(b);  // a task is one piece
            for (Eigen::Index i = b; i < e; ++i) {
              if (w[i] == 0) {
                h[i] = 0.0;
                continue;
              }
              const Eigen::Index li = i - b;
              const std::uint32_t s0 = pc.start[li], s1 = pc.start[li + 1];
              double s = 0.0;
              for (std::uint32_t a = s0; a < s1; ++a) {
                const double xa = pc.value[a];
                double t = 0.0;
                for (std::uint32_t c = s0; c < s1; ++c)
                  t += M(pc.index[a], pc.index[c]) * pc.value[c];
                s += xa * t;
              }
              h[i] = w[i] * s;
            }
          });
        }
        return h;
      },
      py::arg("rows"), py::arg("M"), py::arg("w"),
      "h_i = w_i x_i' M x_i over the rows of a DesignRows (threaded): with M = (R'R)^-1 of "
      "the weighted fit, the hat values of sqrt(W) X.");

  m.def(
      "glm_count_aic",
      [](const std::string& family, const VecRef& y, const VecRef& n, const VecRef& mu,
         const VecRef& wt) {
        const Eigen::Index len = y.size();
        if (n.size() != len || mu.size() != len || wt.size() != len)
          throw py::value_error("y, n, mu and wt must have the same length");
        const bool binomial = family == "binomial";
        if (!binomial && family != "poisson")
          throw py::value_error("family must be \"binomial\" or \"poisson\"");
        std::vector<double> nonint;  // Poisson counts that are not integers (R warns)
        double aic = 0;
        {
          py::gil_scoped_release release;
          bool by_n = false;  // binomial: m = n when some n > 1, else the weights
          if (binomial)
            for (Eigen::Index i = 0; i < len && !by_n; ++i) by_n = n[i] > 1;
          // Unit terms summed per task in long double, tasks added in order (any thread count
          // gives the same bits).
          const Eigen::Index tasks = (len + kRowChunk - 1) / kRowChunk;
          std::vector<long double> part(static_cast<std::size_t>(tasks), 0.0L);
          std::vector<std::vector<double>> bad(static_cast<std::size_t>(tasks));
          for_tasks(len, kRowChunk, [&](Eigen::Index t, Eigen::Index b, Eigen::Index e) {
            long double s = 0;
            for (Eigen::Index i = b; i < e; ++i) {
              double term;
              if (binomial) {
                const double m = by_n ? n[i] : wt[i];
                const double k = std::nearbyint(m * y[i]), size = std::nearbyint(m);
                const double ld =
                    (mu[i] < 0 || mu[i] > 1 || size < 0)
                        ? NAN
                        : (k < 0 ? -INFINITY : binomial_log_density(k, size, mu[i], 1 - mu[i]));
                term = (m > 0 ? wt[i] / m : 0.0) * ld;
              } else {
                const double x = y[i];
                double ld;
                if (mu[i] < 0) {
                  ld = NAN;
                } else if (std::fabs(x - std::nearbyint(x)) > 1e-7 * std::max(1.0, std::fabs(x))) {
                  bad[static_cast<std::size_t>(t)].push_back(x);
                  ld = -INFINITY;
                } else {
                  ld = poisson_log_density(std::nearbyint(x), mu[i]);
                }
                term = ld * wt[i];
              }
              s += term;
            }
            part[static_cast<std::size_t>(t)] = s;
          });
          long double total = 0;
          for (long double v : part) total += v;
          aic = -2 * static_cast<double>(total);
          for (auto& v : bad) nonint.insert(nonint.end(), v.begin(), v.end());
        }
        return py::make_tuple(aic, nonint);
      },
      py::arg("family"), py::arg("y"), py::arg("n"), py::arg("mu"), py::arg("wt"),
      "R's binomial()$aic(y, n, mu, wt) or poisson()$aic (without 2 * rank): -2 sum of the "
      "prior-weighted log densities by R's saddle-point method (dbinom/dpois). Returns (aic, "
      "the non-integer Poisson counts, for R's warning).");

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
