// Bindings for R's number formatting (format/format_real.cpp): conversion only.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>

#include "bindings.hpp"
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

}  // namespace

void register_format(py::module_& m) {
  def_format_real(m);
  def_encode_reals(m);
  def_fround(m);
  def_fprec(m);
}

}  // namespace rmodels
