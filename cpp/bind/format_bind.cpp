// Bindings for R's number formatting (format/format_real.cpp): conversion only.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "coefmat.hpp"
#include "format_real.hpp"

namespace py = pybind11;

namespace rmodels {

namespace {

using Doubles = py::array_t<double, py::array::c_style | py::array::forcecast>;
using Kinds = py::array_t<std::int8_t, py::array::c_style | py::array::forcecast>;

void check_same_length(const Doubles& x, const Kinds& kinds) {
  if (x.ndim() != 1 || kinds.ndim() != 1 || x.shape(0) != kinds.shape(0))
    throw py::value_error("x and kinds must be 1-d arrays of the same length");
}

void def_format_real(py::module_& m) {
  m.def(
      "format_real",
      [](const Doubles& x, const Kinds& kinds, int digits, int nsmall, int na_width, int scipen) {
        check_same_length(x, kinds);
        if (digits < 1 || digits > 22) throw py::value_error("digits must be in 1..22");
        const RealFormat f =
            format_real(x.data(), kinds.data(), x.shape(0), digits, nsmall, na_width, scipen);
        return py::make_tuple(f.width, f.decimals, f.exponent);
      },
      py::arg("x"), py::arg("kinds"), py::arg("digits"), py::arg("nsmall") = 0,
      py::arg("na_width") = 2, py::arg("scipen") = 0,
      "R's formatReal: (width, decimals, exponent flag) of the numbers x classified by kinds.");
}

void def_encode_reals(py::module_& m) {
  m.def(
      "encode_reals",
      [](const Doubles& x, const Kinds& kinds, int width, int decimals, int exponent,
         const std::string& na) {
        check_same_length(x, kinds);
        const RealFormat f{width, decimals, exponent};
        py::list out(x.shape(0));
        for (py::ssize_t i = 0; i < x.shape(0); ++i)
          out[i] =
              py::str(encode_real(x.data()[i], static_cast<NumberKind>(kinds.data()[i]), f, na));
        return out;
      },
      py::arg("x"), py::arg("kinds"), py::arg("width"), py::arg("decimals"), py::arg("exponent"),
      py::arg("na") = "NA", "R's EncodeReal0 of each number in the common format.");
}

void def_fround(py::module_& m) {
  m.def(
      "fround",
      [](const Doubles& x, double digits) {
        py::array_t<double> out(x.size());
        double* o = out.mutable_data();
        for (py::ssize_t i = 0; i < x.size(); ++i) o[i] = fround(x.data()[i], digits);
        return out;
      },
      py::arg("x"), py::arg("digits"), "R 4's round(x, digits) of each number (flattened).");
}

void def_fprec(py::module_& m) {
  m.def(
      "fprec",
      [](const Doubles& x, double digits) {
        py::array_t<double> out(x.size());
        double* o = out.mutable_data();
        for (py::ssize_t i = 0; i < x.size(); ++i) o[i] = fprec(x.data()[i], digits);
        return out;
      },
      py::arg("x"), py::arg("digits"), "R's signif(x, digits) of each number (flattened).");
}

void def_coefmat_cells(py::module_& m) {
  m.def(
      "coefmat_cells",
      [](const Doubles& x, const Kinds& kinds, int digits, int dig_tst, std::vector<int> cs,
         std::vector<int> tst, int p_column, double eps_p, bool signif_stars,
         std::string na_print) {
        if (x.ndim() != 2 || kinds.ndim() != 2 || x.shape(0) != kinds.shape(0) ||
            x.shape(1) != kinds.shape(1))
          throw py::value_error("x and kinds must be 2-d arrays of the same shape");
        if (digits < 1 || digits > 22 || dig_tst < 1 || dig_tst > 22)
          throw py::value_error("digits must be in 1..22");
        for (int j : cs)
          if (j < 0 || j >= x.shape(1)) throw py::value_error("cs column out of range");
        for (int j : tst)
          if (j < 0 || j >= x.shape(1)) throw py::value_error("tst column out of range");
        if (p_column >= x.shape(1)) throw py::value_error("p column out of range");
        const CoefmatSpec spec{digits,   dig_tst, std::move(cs), std::move(tst),
                               p_column, eps_p,   signif_stars,  std::move(na_print)};
        const CoefmatCells c = coefmat_cells(x.data(), kinds.data(), x.shape(0), x.shape(1), spec);
        py::list rows(x.shape(0));
        for (py::ssize_t i = 0; i < x.shape(0); ++i) {
          py::list row(c.ncol);
          for (py::ssize_t j = 0; j < c.ncol; ++j) row[j] = py::str(c.cells[i * c.ncol + j]);
          rows[i] = std::move(row);
        }
        return py::make_tuple(std::move(rows), c.stars_shown);
      },
      py::arg("x"), py::arg("kinds"), py::arg("digits"), py::arg("dig_tst"), py::arg("cs"),
      py::arg("tst"), py::arg("p_column"), py::arg("eps_p"), py::arg("signif_stars"),
      py::arg("na_print"),
      "R's printCoefmat cells of the table x classified by kinds: (rows of cell text, with a "
      "column of stars appended when shown; whether the stars are shown).");
}

void def_format_pval(py::module_& m) {
  m.def(
      "format_pval",
      [](const Doubles& p, int digits, double eps) {
        if (p.ndim() != 1) throw py::value_error("p must be a 1-d array");
        if (digits < 1 || digits > 22) throw py::value_error("digits must be in 1..22");
        const std::vector<std::string> s = format_pval(p.data(), p.shape(0), digits, eps);
        py::list out(s.size());
        for (std::size_t i = 0; i < s.size(); ++i) out[i] = py::str(s[i]);
        return out;
      },
      py::arg("p"), py::arg("digits"), py::arg("eps"),
      "R's format.pval of p-values none of which is NA or NaN.");
}

}  // namespace

void register_format(py::module_& m) {
  def_format_real(m);
  def_encode_reals(m);
  def_fround(m);
  def_fprec(m);
  def_coefmat_cells(m);
  def_format_pval(m);
}

}  // namespace rmodels
