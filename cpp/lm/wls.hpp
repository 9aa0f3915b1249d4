// One weighted least-squares step: min || Yw - Xw b || over b by the QR of the weighted design
// with LINPACK dqrdc2's limited pivoting (R's Cdqrls). lm.wfit (lm.cpp) and every IRLS step of
// glm.fit (irls.cpp) solve their problem with it.
#pragma once
#include <Eigen/Dense>
#include <vector>

#include "qr_tall.hpp"

namespace rmodels {

// The solution of one step (n rows of Xw, p columns, k responses):
//   qraux, pivot (0-based), rank  the dqrdc2 factor (left in Xw unless deferred)
//   coef      rank x k  coefficients of the first `rank` pivoted columns
//   effects   n x k     Q'Yw (deferred factor: only its first p rows)
//   rsd       n x k     Yw - Xw b (when asked for)
//   reconstructed       the factor came from the reconstruction path (qr_tall.hpp)
struct WlsStep {
  Eigen::VectorXd qraux;
  std::vector<int> pivot;
  int rank = 0;
  Eigen::MatrixXd coef, effects, rsd;
  bool reconstructed = false;
};

// The reconstruction path of qr_tall.hpp (tall, well-conditioned designs; same factor as
// dqrdc2 to ~1e-12, only when dqrdc2 would move no column). kDone fills `out`; kDeclined and
// kNonFiniteX leave Xw untouched (see lm_tall_reconstruct_checked; Yw must be finite). With
// `deferred`, the factor is not written (LmFit::deferred).
TallStatus wls_reconstruct(Eigen::Ref<Eigen::MatrixXd> Xw,
                           const Eigen::Ref<const Eigen::MatrixXd>& Yw, double tol, int threads,
                           WlsStep& out, TallFactor* deferred = nullptr);

// dqrdc2 column by column on Xw (overwritten by the compact factor), then Q'Yw (in Yw, which
// becomes out.effects), the coefficients and, when `residuals`, Yw - Xw b.
void wls_dqrdc2(Eigen::Ref<Eigen::MatrixXd> Xw, Eigen::MatrixXd&& Yw, double tol, int threads,
                bool residuals, WlsStep& out);

// The step as glm.fit takes it: the reconstruction path when Xw and Yw are finite and it
// applies, else dqrdc2. No residuals.
WlsStep wls_solve(Eigen::Ref<Eigen::MatrixXd> Xw, Eigen::MatrixXd&& Yw, double tol, int threads);

}  // namespace rmodels
