// Bindings for the least-squares core: pivoted QR (dqrdc2) and lm_wfit.
// Conversion only; the numbers are computed in qr.cpp / lm.cpp with the GIL released.
#include <pybind11/eigen.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include "bindings.hpp"
#include "qr.hpp"

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

}  // namespace

void register_lm(py::module_& m) {
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
        Eigen::MatrixXd qty = Y;
        Eigen::MatrixXd coef = Eigen::MatrixXd::Constant(qr.cols(), Y.cols(), NAN);
        {
          py::gil_scoped_release nogil;
          qr_qty_inplace(qr, qraux, rank, qty);
          coef.topRows(rank) = qr_solve_r(qr, rank, qty);
        }
        return coef;
      },
      py::arg("qr"), py::arg("qraux"), py::arg("rank"), py::arg("Y"),
      "Least-squares coefficients in PIVOTED order (p, k), NaN beyond rank (dqrls' b).");
}

}  // namespace rmodels
