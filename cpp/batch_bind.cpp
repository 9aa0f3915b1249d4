// Bindings for grouped fitting: converts a list of per-group arrays into strided views (no
// copies of float64 input), releases the GIL around the threaded fits, returns one dict per
// group ("error" is None on success, else R's message).
#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "batch.hpp"
#include "bindings.hpp"

namespace py = pybind11;

namespace rmodels {

namespace {

// Views of the groups' arrays; `keep` holds every array a view points into.
struct ProblemList {
  std::vector<GroupProblem> problems;
  std::vector<py::array> keep;
};

StridedView view_of(const py::object& obj, ProblemList& pl, Eigen::Index n_expected,
                    const char* what) {
  StridedView v;
  if (obj.is_none()) return v;
  py::array a = py::array::ensure(obj);
  if (!a || !a.dtype().is(py::dtype::of<double>()) || a.ndim() < 1 || a.ndim() > 2 ||
      a.strides(0) % static_cast<py::ssize_t>(sizeof(double)) != 0 ||
      (a.ndim() == 2 && a.strides(1) % static_cast<py::ssize_t>(sizeof(double)) != 0)) {
    a = py::array_t<double, py::array::f_style | py::array::forcecast>::ensure(obj);
    if (!a) throw std::invalid_argument(std::string("'") + what + "' must be a float64 array");
  }
  if (a.ndim() < 1 || a.ndim() > 2)
    throw std::invalid_argument(std::string("'") + what + "' must have 1 or 2 dimensions");
  v.data = static_cast<const double*>(a.data());
  v.rows = a.shape(0);
  v.cols = a.ndim() == 2 ? a.shape(1) : 1;
  v.row_stride = a.strides(0) / static_cast<py::ssize_t>(sizeof(double));
  v.col_stride = a.ndim() == 2 ? a.strides(1) / static_cast<py::ssize_t>(sizeof(double)) : 0;
  if (n_expected >= 0 && v.rows != n_expected)
    throw std::invalid_argument(std::string("'") + what + "' has the wrong number of rows");
  pl.keep.push_back(std::move(a));
  return v;
}

ProblemList problems_of(const py::list& groups) {
  ProblemList pl;
  pl.problems.reserve(groups.size());
  pl.keep.reserve(4 * groups.size());
  for (const py::handle& item : groups) {
    py::tuple t = py::reinterpret_borrow<py::object>(item).cast<py::tuple>();
    if (t.size() != 4) throw std::invalid_argument("each group is a tuple (X, Y, weights, offset)");
    GroupProblem gp;
    gp.X = view_of(t[0], pl, -1, "X");
    if (gp.X.empty()) throw std::invalid_argument("'X' is required");
    if (py::reinterpret_borrow<py::array>(pl.keep.back()).ndim() != 2)
      throw std::invalid_argument("'X' must be a matrix");
    gp.Y = view_of(t[1], pl, gp.X.rows, "Y");
    if (gp.Y.empty()) throw std::invalid_argument("'Y' is required");
    gp.weights = view_of(t[2], pl, gp.X.rows, "weights");
    gp.offset = view_of(t[3], pl, gp.X.rows, "offset");
    if ((!gp.weights.empty() && gp.weights.cols != 1) ||
        (!gp.offset.empty() && gp.offset.cols != 1))
      throw std::invalid_argument("weights and offset must be vectors");
    pl.problems.push_back(gp);
  }
  return pl;
}

py::dict lm_result_dict(LmGroupResult&& r) {
  py::dict d;
  if (!r.error.empty()) {
    d["error"] = r.error;
    return d;
  }
  LmFit& f = r.fit;
  d["error"] = py::none();
  d["coefficients"] = std::move(f.coefficients);
  d["qr"] = std::move(r.qr);
  put_lm_fit_fields(d, std::move(f));
  return d;
}

py::dict glm_result_dict(GlmGroupResult&& r) {
  if (!r.error.empty()) {
    py::dict d;
    d["error"] = r.error;
    d["data_error"] = r.data_error;
    return d;
  }
  py::dict d = glm_result_to_dict(std::move(r.fit));
  d["error"] = py::none();
  return d;
}

}  // namespace

void register_batch(py::module_& m) {
  m.def(
      "lm_wfit_batch",
      [](const py::list& groups, double tol, int threads) {
        ProblemList pl = problems_of(groups);
        std::vector<LmGroupResult> res;
        {
          py::gil_scoped_release nogil;
          res = lm_wfit_batch(pl.problems, tol, threads);
        }
        py::list out;
        for (auto& r : res) out.append(lm_result_dict(std::move(r)));
        return out;
      },
      py::arg("groups"), py::arg("tol") = 1e-7, py::arg("threads") = 0,
      "R's lm.wfit on each group: groups is a list of tuples (X (n, p), Y (n,) or (n, k),\n"
      "weights (n,) or None, offset (n,) or None), float64 (any strides; nothing is copied\n"
      "on the Python side). Groups are fitted on `threads` worker threads (0 = all cores),\n"
      "statically assigned, each fit single-threaded: results do not depend on `threads`.\n"
      "Returns one dict per group: as lm_wfit's (qr is the n_used x p compact factor) with\n"
      "'error' None, or {'error': R's message} when the group's fit failed.");

  m.def(
      "glm_fit_batch",
      [](const py::list& groups, const std::string& family, const std::string& link, double lambda,
         const std::string& variance, double theta, double epsilon, int maxit, bool intercept,
         std::vector<int> intercept_col, int threads) {
        Family f = make_family(family, link, lambda, variance, theta);
        GlmControl control{epsilon, maxit};
        ProblemList pl = problems_of(groups);
        if (intercept_col.empty()) intercept_col.assign(pl.problems.size(), -1);
        if (intercept_col.size() != pl.problems.size())
          throw py::value_error("intercept_col needs one entry per group");
        std::vector<GlmGroupResult> res;
        {
          py::gil_scoped_release nogil;
          res = glm_fit_batch(pl.problems, f, control, intercept, intercept_col, threads);
        }
        py::list out;
        for (auto& r : res) out.append(glm_result_dict(std::move(r)));
        return out;
      },
      py::arg("groups"), py::arg("family"), py::arg("link"), py::arg("lambda_") = 1.0,
      py::arg("variance") = "", py::arg("theta") = NAN, py::arg("epsilon") = 1e-8,
      py::arg("maxit") = 25, py::arg("intercept") = true,
      py::arg("intercept_col") = std::vector<int>(), py::arg("threads") = 0,
      "R's glm() + glm.fit() on each group (tuples (X, Y (n,)|(n, 2), weights|None,\n"
      "offset|None) as lm_wfit_batch; intercept_col: 0-based intercept column per group or\n"
      "-1; empty: none). Threads as lm_wfit_batch. Returns one dict per group as glm_fit's, with "
      "'error'\n"
      "None, or {'error': message, 'data_error': bool}.");
}

}  // namespace rmodels
