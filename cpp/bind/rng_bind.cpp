// Bindings for R's random numbers: the Mersenne-Twister state in and out as NumPy arrays, the
// GIL released while the indices are drawn.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>

#include "bindings.hpp"
#include "r_rng.hpp"

namespace py = pybind11;

namespace rmodels {

namespace {

using WordArray = py::array_t<std::uint32_t, py::array::c_style | py::array::forcecast>;

py::tuple r_unif_index(const WordArray& key, int pos, double n, std::int64_t size) {
  if (key.size() != 624) throw py::value_error("the Mersenne-Twister state has 624 words");
  if (pos < 0 || pos > 624) throw py::value_error("the state position must be in 0..624");
  if (size < 0) throw py::value_error("size must be non-negative");
  MersenneState s;
  std::copy(key.data(), key.data() + 624, s.mt.begin());
  s.mti = pos;
  py::array_t<std::int64_t> out(size);
  std::int64_t* dst = out.mutable_data();
  {
    py::gil_scoped_release release;
    unif_index_fill(s, n, size, dst);
  }
  WordArray new_key(624);
  std::copy(s.mt.begin(), s.mt.end(), new_key.mutable_data());
  return py::make_tuple(out, new_key, s.mti);
}

py::tuple r_sample_noreplace(const WordArray& key, int pos, std::int64_t n, std::int64_t size) {
  if (key.size() != 624) throw py::value_error("the Mersenne-Twister state has 624 words");
  if (pos < 0 || pos > 624) throw py::value_error("the state position must be in 0..624");
  if (n < 0 || size < 0 || size > n) throw py::value_error("need 0 <= size <= n");
  MersenneState s;
  std::copy(key.data(), key.data() + 624, s.mt.begin());
  s.mti = pos;
  py::array_t<std::int64_t> out(size);
  std::int64_t* dst = out.mutable_data();
  {
    py::gil_scoped_release release;
    sample_noreplace(s, n, size, dst);
  }
  WordArray new_key(624);
  std::copy(s.mt.begin(), s.mt.end(), new_key.mutable_data());
  return py::make_tuple(out, new_key, s.mti);
}

py::tuple r_unif_index_by_column(const WordArray& key, int pos, double n, std::int64_t nrow,
                                 std::int64_t ncol) {
  if (key.size() != 624) throw py::value_error("the Mersenne-Twister state has 624 words");
  if (pos < 0 || pos > 624) throw py::value_error("the state position must be in 0..624");
  if (nrow < 0 || ncol < 0) throw py::value_error("nrow and ncol must be non-negative");
  if (!(n <= 2147483647.0)) throw py::value_error("n must be below 2^31");
  MersenneState s;
  std::copy(key.data(), key.data() + 624, s.mt.begin());
  s.mti = pos;
  py::array_t<std::int32_t> out({static_cast<py::ssize_t>(nrow), static_cast<py::ssize_t>(ncol)});
  std::int32_t* dst = out.mutable_data();
  {
    py::gil_scoped_release release;
    unif_index_by_column(s, n, nrow, ncol, dst);
  }
  WordArray new_key(624);
  std::copy(s.mt.begin(), s.mt.end(), new_key.mutable_data());
  return py::make_tuple(out, new_key, s.mti);
}

}  // namespace

void register_rng(py::module_& m) {
  m.def("r_unif_index", &r_unif_index, py::arg("key"), py::arg("pos"), py::arg("n"),
        py::arg("size"),
        "size successive values of R's R_unif_index(n) (sample.kind \"Rejection\"; 0-based) "
        "from R's Mersenne-Twister state (key: the 624 words, pos: mti). Returns (values, "
        "key, pos) with the state after the draws.");
  m.def("r_sample_noreplace", &r_sample_noreplace, py::arg("key"), py::arg("pos"), py::arg("n"),
        py::arg("size"),
        "R's sample.int(n, size) without replacement by do_sample's partial shuffle (1-based\n"
        "int64), from and to R's Mersenne-Twister state as r_unif_index. Returns (values, key,\n"
        "pos).");
  m.def("r_unif_index_by_column", &r_unif_index_by_column, py::arg("key"), py::arg("pos"),
        py::arg("n"), py::arg("nrow"), py::arg("ncol"),
        "nrow * ncol successive values of R's R_unif_index(n) (n < 2^31; 0-based int32) as\n"
        "matrix(values, nrow, ncol) lays them out (by column), returned C-contiguous; from and\n"
        "to R's Mersenne-Twister state as r_unif_index. Returns (values, key, pos).");
}

}  // namespace rmodels
