// Bindings for the least-squares core: pivoted QR (dqrdc2), lm_wfit and summary.lm's sums.
// Conversion only; the numbers are computed in qr/ and lm/ with the GIL released.
#include <pybind11/eigen.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <optional>

#include "bindings.hpp"
#include "deferred_qr.hpp"
#include "design_rows.hpp"
#include "lm.hpp"
#include "lm_summary.hpp"
#include "qr.hpp"
#include "rsum.hpp"

namespace py = pybind11;

namespace rmodels {

namespace {

using RefMat = Eigen::Ref<const Eigen::MatrixXd>;
using RefVec = Eigen::Ref<const Eigen::VectorXd>;

py::dict qr_to_dict(PivotedQR&& f) {
  py::dict d;
  d["qr"] = std::move(f.qr);
  d["qraux"] = std::move(f.qraux);
  d["pivot"] = f.pivot;
  d["rank"] = f.rank;
  return d;
}

void check_factor(const RefMat& qr, const RefVec& qraux, int rank) {
  if (qraux.size() != qr.cols()) throw std::invalid_argument("qraux must have ncol(qr) entries");
  if (rank < 0 || rank > qr.cols() || rank > qr.rows())
    throw std::invalid_argument("rank out of range");
}

// X as a writable Fortran-ordered float64 matrix: X itself when allowed and possible, else a copy.
py::array_t<double, py::array::f_style> factor_buffer(const py::object& X, bool overwrite_x) {
  using FArray = py::array_t<double, py::array::f_style>;
  if (overwrite_x && py::isinstance<py::array>(X)) {
    auto a = py::reinterpret_borrow<py::array>(X);
    const bool ok = a.dtype().is(py::dtype::of<double>()) && a.ndim() == 2 && a.writeable() &&
                    (a.flags() & py::array::f_style);
    if (ok) return py::reinterpret_borrow<FArray>(a);
  }
  py::object np = py::module_::import("numpy");
  FArray copy = np.attr("array")(X, py::arg("dtype") = "float64", py::arg("order") = "F",
                                 py::arg("copy") = true);
  if (copy.ndim() != 2) throw std::invalid_argument("'x' must be a matrix");
  return copy;
}

// A fit whose compact factor was deferred (LmFit::deferred): the core's DeferredFactor, the
// design buffer it writes the factor over (sqrt(w) X on its first n_used rows, which nothing else
// may change) and, once asked for, the factor and the full effects as NumPy arrays.
struct DeferredQR {
  std::unique_ptr<DeferredFactor> core;
  py::array_t<double, py::array::f_style> buf;
  py::object qr = py::none(), effects = py::none();
  // A fit from the design's rows (lm_wfit_rows) has no buffer until the factor or the hat values
  // are asked for: `builder()` then returns sqrt(w) X as a new Fortran-ordered float64 array.
  py::object builder = py::none();

  // The buffer's first n_used rows (call with the GIL held).
  Eigen::Ref<Eigen::MatrixXd> rows() {
    const Eigen::Index n_used = core->n_used();
    if (!builder.is_none()) {
      // The builder runs Python code, which may let another thread in: the first to finish
      // sets the buffer (under the GIL), once; later results are dropped.
      py::object make = builder;
      py::array_t<double, py::array::f_style> x = make();
      if (x.ndim() != 2 || x.shape(0) != n_used || x.shape(1) != core->p())
        throw std::invalid_argument("DeferredQR: the rebuilt design has the wrong shape");
      if (!builder.is_none()) {
        buf = std::move(x);
        builder = py::none();
      }
    }
    Eigen::Map<Eigen::MatrixXd> x(buf.mutable_data(), buf.shape(0), buf.shape(1));
    return x.topRows(n_used);
  }
  bool done() const { return !qr.is_none(); }
  void materialise() {
    if (done()) return;
    Eigen::Ref<Eigen::MatrixXd> x = rows();
    {
      py::gil_scoped_release nogil;
      core->materialise(x);
    }
    if (done()) return;  // another thread finished first
    effects = py::cast(core->take_effects());
    qr = buf[py::slice(0, core->n_used(), 1)];
  }
  Eigen::VectorXd hat() {
    Eigen::Ref<Eigen::MatrixXd> x = rows();
    py::gil_scoped_release nogil;
    return core->hat(x);
  }
};

// lm_wfit's result dict. A deferred fit hands its factor's state to `h` (which already holds
// the design buffer or its builder); otherwise `qr` is the factor.
py::dict lm_fit_dict(LmFit&& fit, double tol, const std::shared_ptr<DeferredQR>& h,
                     const py::object& qr) {
  py::dict d;
  d["coefficients"] = std::move(fit.coefficients);
  if (fit.deferred) {
    h->core = std::make_unique<DeferredFactor>(fit);
    d["qr"] = py::none();
    d["qr_top"] = fit.deferred->top;
    d["deferred"] = py::cast(h);
  } else {
    d["qr"] = qr;
  }
  put_lm_fit_fields(d, std::move(fit));
  d["tol"] = tol;
  return d;
}

}  // namespace

void put_lm_fit_fields(py::dict& d, LmFit&& fit) {
  d["qraux"] = std::move(fit.qraux);
  d["pivot"] = py::array(py::cast(fit.pivot));
  d["rank"] = fit.rank;
  d["effects"] = std::move(fit.effects);
  d["residuals"] = std::move(fit.residuals);
  d["fitted_values"] = std::move(fit.fitted_values);
  d["df_residual"] = fit.df_residual;
  d["n_used"] = fit.n_used;
  d["algorithm"] = fit.algorithm;
}

static void register_deferred_qr(py::module_& m) {
  py::class_<DeferredQR, std::shared_ptr<DeferredQR>>(
      m, "DeferredQR",
      "The compact QR factor (R's qr$qr) and full effects of a reconstructed lm fit, computed\n"
      "on first request from the design, which the object keeps (see lm_wfit's defer_factor).")
      .def_property_readonly(
          "materialised", [](const DeferredQR& d) { return d.done(); },
          "Whether the factor has been written over the design buffer.")
      .def(
          "qr",
          [](DeferredQR& d) {
            d.materialise();
            return d.qr;
          },
          "The compact factor (n_used, p), written over the design buffer on the first call.")
      .def(
          "effects",
          [](DeferredQR& d) {
            d.materialise();
            return d.effects;
          },
          "Q' sqrt(w)(y - offset), (n_used, k); materialises the factor as qr() does.")
      .def("hat", &DeferredQR::hat,
           "Hat values h_i = ||row i of Q1||^2 (before R's 1 - 10 eps clamp): from the design\n"
           "as ||x_i' R^{-1}||^2 while the factor is deferred, from the factor (qr_hat) once it\n"
           "has been materialised.");
}

static void register_r_sums(py::module_& m) {
  m.def(
      "r_sum",
      [](const RefVec& x) {
        py::gil_scoped_release nogil;
        return r_sum(x);
      },
      py::arg("x"), "R's sum() of a double vector: sequential long-double accumulation.");
  m.def(
      "r_mean",
      [](const RefVec& x) {
        py::gil_scoped_release nogil;
        return r_mean(x);
      },
      py::arg("x"), "R's mean() of a double vector (long double, with R's refinement pass).");
  m.def(
      "r_summary_sums",
      [](const RefVec& f, const RefVec& r, std::optional<Eigen::VectorXd> w, bool intercept) {
        const Eigen::VectorXd none;
        SummarySums s;
        {
          py::gil_scoped_release nogil;
          s = r_summary_sums(f, r, w ? *w : none, intercept);
        }
        return py::make_tuple(s.mss, s.rss);
      },
      py::arg("f"), py::arg("r"), py::arg("w") = py::none(), py::arg("intercept") = true,
      "summary.lm's (mss, rss) in R's arithmetic: mss = sum((f - mean(f))^2) with R's mean\n"
      "(weighted: sum(w (f - m)^2), m = sum(w f / sum(w))), or sum(f^2) / sum(w f^2) without\n"
      "an intercept; rss = sum(r^2) / sum(w r^2). Terms in double, sums in long double (rsum).");
}

static void register_qr(py::module_& m) {
  m.def(
      "qr_dqrdc2",
      [](const RefMat& X, double tol) {
        PivotedQR f;
        {
          py::gil_scoped_release nogil;
          f = qr_dqrdc2(X, tol);
        }
        return qr_to_dict(std::move(f));
      },
      py::arg("X"), py::arg("tol") = 1e-7,
      "Householder QR with LINPACK dqrdc2's limited pivoting (R's qr(x, tol), LAPACK = FALSE).\n"
      "Returns dict(qr, qraux, pivot (0-based), rank). X is copied.");

  m.def(
      "qr_qty",
      [](const RefMat& qr, const RefVec& qraux, int rank, const RefMat& Y) {
        check_factor(qr, qraux, rank);
        if (Y.rows() != qr.rows()) throw std::invalid_argument("Y must have nrow(qr) rows");
        Eigen::MatrixXd out = Y;
        {
          py::gil_scoped_release nogil;
          qr_qty_inplace(qr, qraux, rank, out);
        }
        return out;
      },
      py::arg("qr"), py::arg("qraux"), py::arg("rank"), py::arg("Y"),
      "Q'Y from a compact dqrdc2 factor (R's qr.qty). Y is (n, k); returns (n, k).");

  m.def(
      "qr_qy",
      [](const RefMat& qr, const RefVec& qraux, int rank, const RefMat& Y) {
        check_factor(qr, qraux, rank);
        if (Y.rows() != qr.rows()) throw std::invalid_argument("Y must have nrow(qr) rows");
        Eigen::MatrixXd out = Y;
        {
          py::gil_scoped_release nogil;
          qr_qy_inplace(qr, qraux, rank, out);
        }
        return out;
      },
      py::arg("qr"), py::arg("qraux"), py::arg("rank"), py::arg("Y"),
      "QY from a compact dqrdc2 factor (R's qr.qy). Y is (n, k); returns (n, k).");

  m.def(
      "qr_coef",
      [](const RefMat& qr, const RefVec& qraux, int rank, const RefMat& Y) {
        check_factor(qr, qraux, rank);
        if (Y.rows() != qr.rows()) throw std::invalid_argument("Y must have nrow(qr) rows");
        py::gil_scoped_release nogil;
        return qr_coef(qr, qraux, rank, Y);
      },
      py::arg("qr"), py::arg("qraux"), py::arg("rank"), py::arg("Y"),
      "Least-squares coefficients in PIVOTED order (p, k), NaN beyond rank (dqrls' b).");
}

namespace {

void def_lm_wfit(py::module_& m) {
  m.def(
      "lm_wfit",
      [](const py::object& X, const RefMat& Y, std::optional<Eigen::VectorXd> weights,
         std::optional<Eigen::VectorXd> offset, double tol, bool overwrite_x, int threads,
         int extended, bool allow_fast, bool defer_factor) {
        py::array_t<double, py::array::f_style> buf = factor_buffer(X, overwrite_x);
        Eigen::Map<Eigen::MatrixXd> x(buf.mutable_data(), buf.shape(0), buf.shape(1));
        const Eigen::VectorXd none;
        LmFit fit;
        {
          py::gil_scoped_release nogil;
          fit = lm_wfit_inplace(x, Y, weights ? *weights : none, offset ? *offset : none, tol,
                                threads, extended, allow_fast, defer_factor);
        }
        auto h = std::make_shared<DeferredQR>();
        h->buf = buf;
        const py::object qr =
            fit.deferred ? py::object(py::none()) : py::object(buf[py::slice(0, fit.n_used, 1)]);
        return lm_fit_dict(std::move(fit), tol, h, qr);
      },
      py::arg("X"), py::arg("Y"), py::arg("weights") = py::none(), py::arg("offset") = py::none(),
      py::arg("tol") = 1e-7, py::arg("overwrite_x") = true, py::arg("threads") = 0,
      py::arg("extended") = -1, py::arg("allow_fast") = true, py::arg("defer_factor") = false,
      "Weighted least squares exactly as R's lm.wfit (lm.fit when weights is None).\n\n"
      "X (n, p) float64; when overwrite_x is True and X is a writable Fortran-ordered float64\n"
      "array it is factorised IN PLACE (its contents are destroyed; 'qr' is then a view of its\n"
      "first n_used rows), otherwise X is copied first. Y is (n,) or (n, k); weights and offset\n"
      "are (n,) or None. Rows with weight 0 are set aside as lm.wfit does.\n"
      "Returns dict: coefficients (p, k; original order; NaN aliased), qr (n_used, p; compact,\n"
      "pivoted columns), qraux (p,), pivot (p,; 0-based), rank,\n"
      "effects (n_used, k; Q'sqrt(w)(y-o)),\n"
      "residuals (n, k), fitted_values (n, k; incl. offset), df_residual, n_used, tol.\n"
      "threads: worker threads for large problems (0 = all cores). extended: -1 automatic (small\n"
      "problems in R's exact operation order), 0 fast double kernels, 1 R's order. allow_fast:\n"
      "large tall well-conditioned designs may reconstruct LINPACK's factor from X'X (sparse X)\n"
      "or a tall-skinny QR (dense X), same results to ~1e-12; 'algorithm' in the result says\n"
      "which path ran: 'dqrdc2', 'dqrdc2-r-order' or 'reconstructed'.\n"
      "defer_factor: on the reconstructed path, do not write the factor: X then keeps sqrt(w) X\n"
      "(it must not be changed afterwards), 'qr' is None, 'qr_top' holds its first p rows,\n"
      "'effects' only its first p rows, and 'deferred' (DeferredQR) gives the factor, the full\n"
      "effects (bit-identical to the undeferred ones) and the hat values on request.");
}

void def_lm_wfit_rows(py::module_& m) {
  m.def(
      "lm_wfit_rows",
      [](const std::shared_ptr<SparseRows>& rows, const RefVec& y,
         std::optional<Eigen::VectorXd> weights, std::optional<Eigen::VectorXd> offset, double tol,
         const py::object& builder) -> py::object {
        if (!rows) throw py::type_error("rows must be a DesignRows");
        if (!PyCallable_Check(builder.ptr()))
          throw py::type_error("builder must be a callable returning sqrt(w) X");
        const Eigen::VectorXd none;
        LmFit fit;
        bool ok;
        {
          py::gil_scoped_release nogil;
          ok = lm_wfit_rows(*rows, y, weights ? *weights : none, offset ? *offset : none, tol, fit);
        }
        if (!ok) return py::none();
        auto h = std::make_shared<DeferredQR>();
        h->builder = builder;
        return lm_fit_dict(std::move(fit), tol, h, py::none());
      },
      py::arg("rows"), py::arg("y"), py::arg("weights") = py::none(),
      py::arg("offset") = py::none(), py::arg("tol") = 1e-7, py::arg("builder") = py::none(),
      "lm_wfit (deferred, reconstructed path) for one response on a model matrix kept by rows\n"
      "(design_rows), without the dense matrix. weights None or all positive. Returns None when\n"
      "the path does not apply (fit the dense matrix then), else lm_wfit's dict with 'deferred';\n"
      "builder() must return the dense sqrt(w) X (n, p) when the factor or hat values are asked\n"
      "for.");
}

void def_qr_hat(py::module_& m) {
  m.def(
      "qr_hat",
      [](const RefMat& qr, const RefVec& qraux, int rank) {
        check_factor(qr, qraux, rank);
        py::gil_scoped_release nogil;
        return qr_hat(qr, qraux, rank);
      },
      py::arg("qr"), py::arg("qraux"), py::arg("rank"),
      "Hat values: squared row norms of Q1, the first `rank` columns of Q (R's hatvalues\n"
      "before its 1 - 10 eps clamp).");
}

void def_qr_cov_unscaled(py::module_& m) {
  m.def(
      "qr_cov_unscaled",
      [](const RefMat& qr, int rank) {
        if (rank < 0 || rank > qr.cols() || rank > qr.rows())
          throw std::invalid_argument("rank out of range");
        py::gil_scoped_release nogil;
        return qr_cov_unscaled(qr, rank);
      },
      py::arg("qr"), py::arg("rank"),
      "(R11'R11)^{-1} for the leading rank x rank triangle (summary.lm's cov.unscaled, pivoted\n"
      "order: entry (i, j) belongs to original columns pivot[i], pivot[j]).");
}

}  // namespace

static void register_lm_wfit(py::module_& m) {
  def_lm_wfit(m);
  def_lm_wfit_rows(m);
  def_qr_hat(m);
  def_qr_cov_unscaled(m);
}

void register_lm(py::module_& m) {
  register_deferred_qr(m);
  register_r_sums(m);
  register_qr(m);
  register_lm_wfit(m);
}

}  // namespace rmodels
