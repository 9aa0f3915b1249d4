// Bindings for the bootstrap refits (cpp/boot): NumPy arrays in, the replicates' coefficients
// out, the GIL released during the refits.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <optional>

#include "bindings.hpp"
#include "boot_lm.hpp"

namespace py = pybind11;

namespace rmodels {

namespace {

using FArray = py::array_t<double, py::array::f_style | py::array::forcecast>;
using CArray = py::array_t<double, py::array::c_style | py::array::forcecast>;
using IndexArray = py::array_t<std::int32_t, py::array::c_style | py::array::forcecast>;
using MatMap = Eigen::Map<const Eigen::MatrixXd>;
using VecMap = Eigen::Map<const Eigen::VectorXd>;

VecMap optional_vector(const std::optional<CArray>& v, Eigen::Index n, const char* what) {
  if (!v) return VecMap(nullptr, 0);
  if (v->ndim() != 1 || v->shape(0) != n)
    throw py::value_error(std::string(what) + " must have one value per row of X");
  return VecMap(v->data(), n);
}

py::dict boot_lm_case_py(const FArray& X, const CArray& y, std::optional<CArray> weights,
                         std::optional<CArray> offset, const IndexArray& indices, double tol,
                         int threads) {
  if (X.ndim() != 2 || y.ndim() != 1 || y.shape(0) != X.shape(0))
    throw py::value_error("X must be (n, p) and y (n,)");
  if (indices.ndim() != 2) throw py::value_error("indices must be (R, n)");
  const Eigen::Index N = X.shape(0), p = X.shape(1);
  const std::int64_t R = indices.shape(0), n = indices.shape(1);
  const std::int32_t* idx = indices.data();
  for (std::int64_t i = 0; i < R * n; ++i)
    if (idx[i] < 0 || idx[i] >= N) throw py::value_error("indices must be rows of X");
  const MatMap Xm(X.data(), N, p);
  const VecMap ym(y.data(), N);
  const VecMap wm = optional_vector(weights, N, "weights");
  const VecMap om = optional_vector(offset, N, "offset");
  BootLmReplicates res;
  {
    py::gil_scoped_release nogil;
    res = boot_lm_case(Xm, ym, wm, om, idx, R, n, tol, threads);
  }
  py::array_t<double> coef({static_cast<py::ssize_t>(R), static_cast<py::ssize_t>(p)});
  std::copy(res.coef.begin(), res.coef.end(), coef.mutable_data());
  py::dict d;
  d["coefficients"] = coef;
  d["rank"] = py::array_t<int>(static_cast<py::ssize_t>(R), res.rank.data());
  d["status"] = py::array_t<int>(static_cast<py::ssize_t>(R), res.status.data());
  d["message"] = res.message;
  return d;
}

}  // namespace

void register_boot(py::module_& m) {
  m.def("boot_lm_case", &boot_lm_case_py, py::arg("X"), py::arg("y"), py::arg("weights"),
        py::arg("offset"), py::arg("indices"), py::arg("tol") = 1e-7, py::arg("threads") = 0,
        "Case-bootstrap refits of lm.wfit in R's operation order: replicate r fits the rows\n"
        "indices[r] (int32 (R, n), 0-based) of X (N, p) / y / weights / offset (None for\n"
        "none). Replicates run on `threads` workers (0 = all cores), each on one thread:\n"
        "results do not depend on `threads`. Returns a dict: coefficients (R, p; NaN where\n"
        "aliased), rank, status (0 ok, 1 failed) (R,), message (R's error, '' when ok).");
}

}  // namespace rmodels
