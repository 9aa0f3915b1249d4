// Bindings for the design kernel (design.cpp): conversion and layout checks only; arrays are
// read and written in place through their strides (no copies), with the GIL released.
#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "bindings.hpp"
#include "design.hpp"
#include "design_rows.hpp"

namespace py = pybind11;

namespace rmodels {

namespace {

// Element strides of a 1-d or 2-d array of the given dtype; raises TypeError otherwise.
template <typename T>
py::array checked_array(const py::handle& obj, const char* what, int max_ndim) {
  if (!py::isinstance<py::array>(obj))
    throw py::type_error(std::string(what) + " must be a numpy array");
  py::array arr = py::reinterpret_borrow<py::array>(obj);
  if (!arr.dtype().is(py::dtype::of<T>()))
    throw py::type_error(std::string(what) + " must have dtype " +
                         std::string(py::str(py::dtype::of<T>())) + ", not " +
                         std::string(py::str(arr.dtype())));
  if (arr.ndim() < 1 || arr.ndim() > max_ndim)
    throw py::type_error(std::string(what) + " has the wrong number of dimensions");
  for (py::ssize_t d = 0; d < arr.ndim(); ++d)
    if (arr.strides(d) % static_cast<py::ssize_t>(sizeof(T)) != 0)
      throw py::type_error(std::string(what) + " has strides that are not whole elements");
  return arr;
}

std::ptrdiff_t stride_of(const py::array& a, int d) {
  return d < a.ndim() ? a.strides(d) / a.itemsize() : 0;
}
std::ptrdiff_t dim_of(const py::array& a, int d) { return d < a.ndim() ? a.shape(d) : 1; }

// Parses one ("num", M) / ("fac", codes, C) item; keeps the arrays alive in `keep`.
TermComponent parse_component(const py::handle& item, std::ptrdiff_t n,
                              std::vector<py::array>& keep, std::size_t pos) {
  const std::string where = "components[" + std::to_string(pos) + "]";
  if (!py::isinstance<py::tuple>(item) && !py::isinstance<py::list>(item))
    throw py::type_error(where + " must be a tuple ('num', M) or ('fac', codes, C)");
  py::sequence seq = py::reinterpret_borrow<py::sequence>(item);
  if (seq.size() < 1) throw py::type_error(where + " is empty");
  const std::string kind = py::str(seq[0]);
  TermComponent c;
  if (kind == "num") {
    if (seq.size() != 2) throw py::type_error(where + ": ('num', M) expected");
    py::array M = checked_array<double>(seq[1], (where + " matrix").c_str(), 2);
    if (dim_of(M, 0) != n)
      throw py::value_error(where + " has " + std::to_string(dim_of(M, 0)) + " rows, not " +
                            std::to_string(n));
    c.kind = TermComponent::Kind::Numeric;
    c.data = static_cast<const double*>(M.data());
    c.cols = dim_of(M, 1);
    c.row_stride = stride_of(M, 0);
    c.col_stride = stride_of(M, 1);
    keep.push_back(M);
  } else if (kind == "fac") {
    if (seq.size() != 3) throw py::type_error(where + ": ('fac', codes, C) expected");
    py::array codes = checked_array<std::int32_t>(seq[1], (where + " codes").c_str(), 1);
    py::array C = checked_array<double>(seq[2], (where + " coding matrix").c_str(), 2);
    if (dim_of(codes, 0) != n)
      throw py::value_error(where + " has " + std::to_string(dim_of(codes, 0)) + " codes, not " +
                            std::to_string(n));
    c.kind = TermComponent::Kind::Factor;
    c.codes = static_cast<const std::int32_t*>(codes.data());
    c.code_stride = stride_of(codes, 0);
    c.coding = static_cast<const double*>(C.data());
    c.levels = dim_of(C, 0);
    c.cols = dim_of(C, 1);
    c.crow_stride = stride_of(C, 0);
    c.ccol_stride = stride_of(C, 1);
    keep.push_back(codes);
    keep.push_back(C);
  } else {
    throw py::value_error(where + ": kind must be 'num' or 'fac', not '" + kind + "'");
  }
  return c;
}

}  // namespace

namespace {

void def_fill_term(py::module_& m) {
  m.def(
      "fill_term",
      [](Eigen::Ref<Eigen::MatrixXd> X_out, std::ptrdiff_t col_offset, const py::list& components,
         int threads) {
        DesignOut out{X_out.data(), X_out.rows(), X_out.cols(), X_out.outerStride()};
        std::vector<py::array> keep;
        std::vector<TermComponent> comps;
        comps.reserve(components.size());
        for (std::size_t k = 0; k < components.size(); ++k)
          comps.push_back(parse_component(components[k], out.rows, keep, k));
        std::ptrdiff_t width;
        {
          py::gil_scoped_release nogil;
          width = fill_term(out, col_offset, comps, threads);
        }
        return width;
      },
      py::arg("X_out").noconvert(), py::arg("col_offset"), py::arg("components"),
      py::arg("threads") = 0,
      "Write one model-matrix term into X_out[:, col_offset:col_offset + width] in place.\n\n"
      "X_out: Fortran-ordered, writeable float64 (n, p) array (anything else raises TypeError;\n"
      "no copy is made). components: list of ('num', M) with M float64 (n,) or (n, k), or\n"
      "('fac', codes, C) with codes int32 (n,) 0-based (-1 = missing -> NaN row) and C the\n"
      "float64 (levels, k) coding matrix; any strides. Columns are the products of the\n"
      "components' columns, the first component varying fastest (R's a1:b1, a2:b1, ...); an\n"
      "empty list writes a column of ones. threads: 0 = automatic. Returns the width.");
}

void def_DesignRows(py::module_& m) {
  py::class_<SparseRows, std::shared_ptr<SparseRows>>(
      m, "DesignRows",
      "A tall, mostly-zero model matrix kept by rows (the non-zeros of each row); built by "
      "design_rows and read by glm_fit_rows.")
      .def_property_readonly("n", [](const SparseRows& r) { return r.n; })
      .def_property_readonly("p", [](const SparseRows& r) { return r.p; })
      .def_property_readonly("nnz", [](const SparseRows& r) { return r.nnz(); })
      .def("to_dense", &rows_dense, "The dense n x p matrix (for tests).");
}

void def_design_rows(py::module_& m) {
  m.def(
      "design_rows",
      [](std::ptrdiff_t n, int p, const py::list& terms) -> py::object {
        std::vector<py::array> keep;
        std::vector<TermSpec> specs;
        for (std::size_t t = 0; t < terms.size(); ++t) {
          py::sequence item = py::reinterpret_borrow<py::sequence>(terms[t]);
          if (item.size() != 2)
            throw py::type_error("terms[" + std::to_string(t) + "] must be (col, components)");
          TermSpec spec;
          spec.col_offset = item[0].cast<std::ptrdiff_t>();
          py::list comps = item[1].cast<py::list>();
          for (std::size_t k = 0; k < comps.size(); ++k) {
            spec.comps.push_back(parse_component(comps[k], n, keep, k));
            check_factor_codes(spec.comps.back(), n);
          }
          std::ptrdiff_t width = term_width(spec.comps);
          if (spec.col_offset < 0 || spec.col_offset + width > p)
            throw py::value_error("terms[" + std::to_string(t) + "] lies outside the " +
                                  std::to_string(p) + " columns");
          specs.push_back(std::move(spec));
        }
        auto rows = std::make_shared<SparseRows>();
        bool ok;
        {
          py::gil_scoped_release nogil;
          ok = sparse_rows_from_terms(n, p, specs, *rows);
        }
        if (!ok) return py::none();
        return py::cast(rows);
      },
      py::arg("n"), py::arg("p"), py::arg("terms"),
      "The n x p model matrix by rows, from its terms: a list of (first column, components) "
      "with components as fill_term takes them (an empty list: a column of ones). None when "
      "the matrix is not tall and mostly zeros (<= 35% non-zero), or has a non-finite entry.");
}

void def_rows_matvec(py::module_& m) {
  m.def(
      "rows_matvec",
      [](const std::shared_ptr<SparseRows>& rows, const Eigen::Ref<const Eigen::VectorXd>& b) {
        if (!rows) throw py::type_error("rows must be a DesignRows");
        if (b.size() != rows->p) throw py::value_error("b must have p entries");
        py::gil_scoped_release release;
        return rows_matvec(*rows, b);
      },
      py::arg("rows"), py::arg("b"),
      "X b over the rows of a DesignRows, each row summed over its columns in order with zero "
      "coefficients skipped (reference BLAS's accumulation order, as R's X %*% b).");
}

void def_rows_hat(py::module_& m) {
  m.def(
      "rows_hat",
      [](const std::shared_ptr<SparseRows>& rows, const Eigen::Ref<const Eigen::MatrixXd>& M,
         const Eigen::Ref<const Eigen::VectorXd>& w) {
        if (!rows) throw py::type_error("rows must be a DesignRows");
        if (M.rows() != rows->p || M.cols() != rows->p) throw py::value_error("M must be p x p");
        if (w.size() != rows->n) throw py::value_error("w and rows differ in length");
        py::gil_scoped_release release;
        return rows_hat(*rows, M, w);
      },
      py::arg("rows"), py::arg("M"), py::arg("w"),
      "h_i = w_i x_i' M x_i over the rows of a DesignRows (threaded): with M = (R'R)^-1 of "
      "the weighted fit, the hat values of sqrt(W) X.");
}

void def_factor_codes(py::module_& m) {
  m.def(
      "factor_codes",
      [](const py::array& values, const py::array& levels) {
        py::array v = checked_array<double>(values, "values", 1);
        py::array l = checked_array<double>(levels, "levels", 1);
        const std::ptrdiff_t n = dim_of(v, 0), L = dim_of(l, 0);
        if (stride_of(l, 0) != 1) throw py::type_error("levels must be contiguous");
        const double* lv = static_cast<const double*>(l.data());
        for (std::ptrdiff_t k = 0; k < L; ++k)
          if (std::isnan(lv[k]) || (k > 0 && !(lv[k - 1] < lv[k])))
            throw py::value_error("levels must be strictly increasing and free of NaN");
        py::array_t<std::int32_t> codes(n);
        std::int32_t* out = codes.mutable_data();
        const double* vv = static_cast<const double*>(v.data());
        const std::ptrdiff_t s = stride_of(v, 0);
        {
          py::gil_scoped_release nogil;
          match_levels(vv, n, s, lv, L, out);
        }
        return codes;
      },
      py::arg("values"), py::arg("levels"),
      "0-based int32 codes of float64 values in the sorted float64 levels: NaN -> -1,\n"
      "a value equal to no level -> -2 (R's factor(x, levels) would give NA there).");
}

}  // namespace

void register_design(py::module_& m) {
  def_fill_term(m);
  def_DesignRows(m);
  def_design_rows(m);
  def_rows_matvec(m);
  def_rows_hat(m);
  def_factor_codes(m);
}

}  // namespace rmodels
