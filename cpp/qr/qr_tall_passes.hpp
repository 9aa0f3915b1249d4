// The passes over the rows of a tall design behind qr_tall.cpp's reconstruction of LINPACK's
// factor: R~ of [X Y] (X'X over the non-zeros in long double, or a tall-skinny QR), the row
// pass that writes the factor rows, effects and residuals below row p, and the hat values.
// Each pass splits the rows into the same contiguous ranges for a given thread count, so its
// results do not depend on when it runs (fit time or deferred).
#pragma once

#include <Eigen/Dense>
#include <cstdint>
#include <vector>

#include "qr_kernels.hpp"
#include "qr_tall.hpp"

namespace rmodels {
namespace tall {

using LD = long double;
using MatL = kernels::Mat<LD>;
using VecL = kernels::Vec<LD>;

// Threads of the row passes: `threads` when positive, else the cores (at most 8).
int thread_count(int threads);

// The non-zeros of a range of rows (compressed rows), kept from the X'X pass for the output pass.
struct RowStore {
  std::vector<std::uint32_t> start{0};
  std::vector<std::uint16_t> index;
  std::vector<double> value;
};

// [X Y]'[X Y] in long double (upper triangle mirrored), by blocks of rows over their non-zeros,
// which `store` keeps for the row pass; `finite` is false when X holds a NaN or Inf.
MatL gram(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::MatrixXd>& Y,
          int nt, double density, std::vector<RowStore>& store, bool& finite);

// R~ (p x p) and z~ = Q~'Y (p x k) of [X Y] by a tall-skinny QR, rows with a positive diagonal;
// false on a zero diagonal.
bool tsqr(const Eigen::Ref<const Eigen::MatrixXd>& X, const Eigen::Ref<const Eigen::MatrixXd>& Y,
          int nt, MatL& Rt, MatL& zt);

// For the rows i >= p of Xw: with `rsd` the residuals y_i - x_i' b (b = *bd), with `eff` the
// effects y_i + x_i' v (v = *vd), with `C` the factor row x_i' C written over x_i (null pointers
// skip a product).
void row_pass(Eigen::Ref<Eigen::MatrixXd> Xw, const Eigen::Ref<const Eigen::MatrixXd>& Yw,
              bool sparse, int nt, const std::vector<RowStore>* store, const Eigen::MatrixXd* bd,
              Eigen::MatrixXd* rsd, const Eigen::MatrixXd* vd, Eigen::MatrixXd* eff,
              const RowMatrixXd* C);

// h_i = ||x_i' Rinv||^2 for every row of X (Rinv upper triangular).
Eigen::VectorXd hat_pass(const Eigen::Ref<const Eigen::MatrixXd>& X, bool sparse, int nt,
                         const RowMatrixXd& rinv);

}  // namespace tall
}  // namespace rmodels
