// Bindings for grouped fitting: views of the stacked float64 arrays (no copies of Fortran-ordered
// input), the GIL released around the threaded fits, the columns returned as NumPy arrays.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "batch.hpp"
#include "bindings.hpp"
#include "glm_family_bind.hpp"
#include "group_levels.hpp"

namespace py = pybind11;

namespace rmodels {

namespace {

using FArray = py::array_t<double, py::array::f_style | py::array::forcecast>;
using CArray = py::array_t<double, py::array::c_style | py::array::forcecast>;
using IArray = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>;

// The stacked problems over the caller's arrays (which must outlive the returned view).
StackedGroups stacked_view(const FArray& X, const FArray& Y, const std::optional<CArray>& w,
                           const std::optional<CArray>& o, const IArray& rows,
                           const IArray& row_ptr, const IArray& cols, const IArray& col_ptr) {
  if (X.ndim() != 2 || Y.ndim() != 2) throw py::value_error("X and Y must be matrices");
  const py::ssize_t n_src = X.shape(0);
  if (Y.shape(0) != n_src || (w && w->size() != n_src) || (o && o->size() != n_src))
    throw py::value_error("X, Y, weights and offset need the same number of rows");
  if (row_ptr.size() != col_ptr.size() || row_ptr.size() < 1)
    throw py::value_error("row_ptr and col_ptr need one entry per group plus one");
  StackedGroups sg;
  sg.X = X.data();
  sg.ld_x = n_src;
  sg.p_all = X.shape(1);
  sg.Y = Y.data();
  sg.ld_y = n_src;
  sg.k = Y.shape(1);
  sg.weights = w ? w->data() : nullptr;
  sg.offset = o ? o->data() : nullptr;
  sg.rows = rows.data();
  sg.row_ptr = row_ptr.data();
  sg.cols = cols.data();
  sg.col_ptr = col_ptr.data();
  sg.groups = row_ptr.size() - 1;
  const std::int64_t* rp = sg.row_ptr;
  const std::int64_t* cp = sg.col_ptr;
  if (rp[sg.groups] > rows.size() || cp[sg.groups] > cols.size())
    throw py::value_error("row_ptr / col_ptr run past rows / cols");
  for (Eigen::Index g = 0; g < sg.groups; ++g)
    if (rp[g + 1] < rp[g] || cp[g + 1] < cp[g] || rp[g] < 0 || cp[g] < 0)
      throw py::value_error("row_ptr and col_ptr must be non-decreasing");
  for (py::ssize_t i = 0; i < rows.size(); ++i)
    if (sg.rows[i] < 0 || sg.rows[i] >= n_src) throw py::value_error("row index out of range");
  for (py::ssize_t j = 0; j < cols.size(); ++j)
    if (sg.cols[j] < 0 || sg.cols[j] >= sg.p_all)
      throw py::value_error("column index out of range");
  return sg;
}

using I32Array = py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>;

// The model matrix's columns as sources (see ColumnSource): ("ones",), ("num", values) or
// ("coding", codes, coding column); the converted arrays are kept alive in `keep`.
void add_sources(StackedGroups& sg, const py::list& sources, py::ssize_t n_src,
                 std::vector<py::object>& keep) {
  for (const py::handle item : sources) {
    const py::tuple t = py::reinterpret_borrow<py::tuple>(item);
    const std::string kind = t[0].cast<std::string>();
    ColumnSource src;
    if (kind == "ones") {
      src.kind = ColumnSource::Kind::Ones;
    } else if (kind == "num") {
      const CArray v = CArray::ensure(t[1]);
      if (!v || v.size() != n_src) throw py::value_error("a numeric source needs n_src values");
      src.kind = ColumnSource::Kind::Numeric;
      src.values = v.data();
      keep.push_back(v);
    } else if (kind == "coding") {
      const I32Array codes = I32Array::ensure(t[1]);
      const CArray col = CArray::ensure(t[2]);
      if (!codes || !col || codes.size() != n_src)
        throw py::value_error("a coding source needs n_src codes and a coding column");
      for (py::ssize_t i = 0; i < n_src; ++i)
        if (codes.data()[i] >= col.size()) throw py::value_error("factor code out of range");
      src.kind = ColumnSource::Kind::Coding;
      src.codes = codes.data();
      src.coding = col.data();
      keep.push_back(codes);
      keep.push_back(col);
    } else {
      throw py::value_error("unknown column source '" + kind + "'");
    }
    sg.sources.push_back(src);
  }
}

template <class T>
py::array_t<T> to_array(const std::vector<T>& v) {
  return py::array_t<T>(static_cast<py::ssize_t>(v.size()), v.data());
}

template <class T>
py::array_t<T> to_matrix(const std::vector<T>& v, Eigen::Index rows, Eigen::Index cols) {
  return py::array_t<T>({static_cast<py::ssize_t>(rows), static_cast<py::ssize_t>(cols)}, v.data());
}

void put_coef_columns(py::dict& d, const CoefColumns& c, const StackedGroups& sg) {
  d["estimate"] = to_matrix(c.estimate, sg.groups, sg.p_all);
  d["std_error"] = to_matrix(c.std_error, sg.groups, sg.p_all);
  d["statistic"] = to_matrix(c.statistic, sg.groups, sg.p_all);
  d["pivot"] = to_matrix(c.pivot, sg.groups, sg.p_all);
  d["rank"] = to_array(c.rank);
  d["df_residual"] = to_array(c.df_residual);
  d["status"] = to_array(c.status);
  d["message"] = c.message;
}

py::dict glm_columns_dict(const GlmBatchColumns& c, const StackedGroups& sg, bool keep_rows) {
  py::dict d;
  put_coef_columns(d, c, sg);
  d["deviance"] = to_array(c.deviance);
  d["null_deviance"] = to_array(c.null_deviance);
  d["dispersion"] = to_array(c.dispersion);
  d["aic_family"] = to_array(c.aic_family);
  d["sum_log_w"] = to_array(c.sum_log_w);
  d["n_ok"] = to_array(c.n_ok);
  d["n_loglik"] = to_array(c.n_loglik);
  d["n_rows"] = to_array(c.n_rows);
  d["iter"] = to_array(c.iter);
  d["converged"] = to_array(c.converged);
  d["boundary"] = to_array(c.boundary);
  d["warnings"] = c.warnings;
  d["warning_kinds"] = c.warning_kinds;
  if (keep_rows) {
    d["y"] = to_array(c.y);
    d["mu"] = to_array(c.mu);
    d["prior_weights"] = to_array(c.prior_weights);
    d["n_trials"] = to_array(c.n_trials);
  }
  return d;
}

}  // namespace

namespace {

void def_lm_batch_columns(py::module_& m) {
  m.def(
      "lm_batch_columns",
      [](const FArray& X, const FArray& Y, std::optional<CArray> weights,
         std::optional<CArray> offset, const IArray& rows, const IArray& row_ptr,
         const IArray& cols, const IArray& col_ptr, double tol, bool intercept, int threads) {
        const StackedGroups sg = stacked_view(X, Y, weights, offset, rows, row_ptr, cols, col_ptr);
        LmBatchColumns c;
        {
          py::gil_scoped_release nogil;
          c = lm_batch_columns(sg, tol, intercept, threads);
        }
        py::dict d;
        put_coef_columns(d, c, sg);
        d["rss"] = to_array(c.rss);
        d["mss"] = to_array(c.mss);
        d["deviance"] = to_array(c.deviance);
        d["sum_log_w"] = to_array(c.sum_log_w);
        d["n_used"] = to_array(c.n_used);
        return d;
      },
      py::arg("X"), py::arg("Y"), py::arg("weights"), py::arg("offset"), py::arg("rows"),
      py::arg("row_ptr"), py::arg("cols"), py::arg("col_ptr"), py::arg("tol") = 1e-7,
      py::arg("intercept") = true, py::arg("threads") = 0,
      "R's lm.wfit and summary.lm's coefficient table for every group of stacked problems:\n"
      "group g is rows[row_ptr[g]:row_ptr[g+1]] of X (n, P) / Y (n, 1) / weights / offset and\n"
      "columns cols[col_ptr[g]:col_ptr[g+1]] of X. Groups run on `threads` workers (0 = all\n"
      "cores), each fit single-threaded: results do not depend on `threads`. Returns a dict of\n"
      "arrays: estimate, std_error, statistic, pivot (G, P); rank, df_residual, status (0 ok,\n"
      "1 fit error, 2 data error), rss, mss (summary.lm's), deviance, sum_log_w, n_used (G,);\n"
      "message (list of R's messages, '' when ok).");
}

void def_glm_batch_columns(py::module_& m) {
  m.def(
      "glm_batch_columns",
      [](const FArray& X, const FArray& Y, std::optional<CArray> weights,
         std::optional<CArray> offset, const IArray& rows, const IArray& row_ptr,
         const IArray& cols, const IArray& col_ptr, const GlmFamily& family, bool fixed_dispersion,
         double epsilon, int maxit, bool intercept, const std::vector<int>& intercept_col,
         bool keep_rows, int threads, std::optional<py::list> sources) {
        const Family& f = family.core;
        const GlmControl control{epsilon, maxit};
        StackedGroups sg = stacked_view(X, Y, weights, offset, rows, row_ptr, cols, col_ptr);
        std::vector<py::object> keep;
        if (sources) {
          if (static_cast<Eigen::Index>(sources->size()) != sg.p_all)
            throw py::value_error("one column source per column of X is needed");
          add_sources(sg, *sources, X.shape(0), keep);
        }
        GlmBatchColumns c;
        {
          py::gil_scoped_release nogil;
          c = glm_batch_columns(sg, f, fixed_dispersion, control, intercept, intercept_col,
                                keep_rows, threads);
        }
        return glm_columns_dict(c, sg, keep_rows);
      },
      py::arg("X"), py::arg("Y"), py::arg("weights"), py::arg("offset"), py::arg("rows"),
      py::arg("row_ptr"), py::arg("cols"), py::arg("col_ptr"), py::arg("family"),
      py::arg("fixed_dispersion") = false, py::arg("epsilon") = 1e-8, py::arg("maxit") = 25,
      py::arg("intercept") = true, py::arg("intercept_col") = std::vector<int>(),
      py::arg("keep_rows") = false, py::arg("threads") = 0, py::arg("sources") = py::none(),
      "R's glm() + glm.fit() and summary.glm's coefficient table for every group of stacked\n"
      "problems (as lm_batch_columns; Y (n, 1) or (n, 2) for cbind(successes, failures);\n"
      "intercept_col: the intercept's position among each group's columns or -1). Returns a\n"
      "dict of arrays as lm_batch_columns' plus deviance, null_deviance, dispersion,\n"
      "aic_family (binomial/Poisson family$aic, else NaN), sum_log_w (prior weights, all rows),\n"
      "n_ok, n_loglik, n_rows, iter, converged, boundary; warnings (R's, per group) and\n"
      "warning_kinds (GlmWarningKind, one per warning); with\n"
      "keep_rows the stacked rows' y, mu, prior_weights, n_trials after family$initialize.\n"
      "sources: the columns of X by what they are made of, X then only gives the shape (n, P)\n"
      "and is never read (np.zeros, untouched): ('ones',), ('num', values (n,)) or ('coding',\n"
      "codes int32 (n,), coding column (levels,)), a group's model matrix built from them.");
}

template <class Code>
void clear_missing_levels_as(const py::array& codes, std::int64_t levels, const IArray& pos,
                             const IArray& bounds, py::array_t<unsigned char>& ok) {
  const auto c = py::array_t<Code, py::array::c_style | py::array::forcecast>::ensure(codes);
  const std::int64_t groups = bounds.size() - 1;
  py::gil_scoped_release nogil;
  clear_groups_missing_levels(c.data(), static_cast<std::int64_t>(c.size()), levels, pos.data(),
                              bounds.data(), groups, ok.mutable_data());
}

void def_groups_with_all_levels(py::module_& m) {
  m.def(
      "groups_with_all_levels",
      [](const py::array& codes, std::int64_t levels, const IArray& pos, const IArray& bounds) {
        if (codes.ndim() != 1 || codes.dtype().kind() != 'i')
          throw py::type_error("codes must be a vector of signed integers");
        if (bounds.size() < 1) throw py::value_error("bounds needs one entry per group plus one");
        const std::int64_t groups = bounds.size() - 1;
        const std::int64_t* b = bounds.data();
        if (b[0] < 0 || b[groups] > pos.size())
          throw py::value_error("bounds run outside the positions");
        for (std::int64_t g = 0; g < groups; ++g)
          if (b[g + 1] < b[g]) throw py::value_error("bounds must be non-decreasing");
        py::array_t<unsigned char> ok(groups);
        std::fill(ok.mutable_data(), ok.mutable_data() + groups, 1);
        switch (codes.itemsize()) {
          case 1:
            clear_missing_levels_as<std::int8_t>(codes, levels, pos, bounds, ok);
            break;
          case 2:
            clear_missing_levels_as<std::int16_t>(codes, levels, pos, bounds, ok);
            break;
          case 4:
            clear_missing_levels_as<std::int32_t>(codes, levels, pos, bounds, ok);
            break;
          default:
            clear_missing_levels_as<std::int64_t>(codes, levels, pos, bounds, ok);
        }
        return ok.attr("astype")("bool");
      },
      py::arg("codes"), py::arg("levels"), py::arg("pos"), py::arg("bounds"),
      "For every group g (rows pos[bounds[g]:bounds[g+1]], each a position in codes or -1 for\n"
      "a row left out), whether its rows hold every one of a factor's `levels` levels (codes\n"
      "0-based, negative for a missing value). Returns a bool array of G. ValueError for a code\n"
      "of `levels` or more or a position past the codes.");
}

}  // namespace

void register_batch(py::module_& m) {
  def_lm_batch_columns(m);
  def_glm_batch_columns(m);
  def_groups_with_all_levels(m);
}

}  // namespace rmodels
