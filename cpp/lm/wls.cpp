// The weighted least-squares step shared by lm.wfit and glm.fit's IRLS (see wls.hpp).
#include "wls.hpp"

#include <utility>

#include "qr.hpp"

namespace rmodels {

TallStatus wls_reconstruct(Eigen::Ref<Eigen::MatrixXd> Xw,
                           const Eigen::Ref<const Eigen::MatrixXd>& Yw, double tol, int threads,
                           WlsStep& out, TallFactor* deferred) {
  TallFit tf;
  const TallStatus st = lm_tall_reconstruct_checked(Xw, Yw, tol, threads, tf, deferred);
  if (st != TallStatus::kDone) return st;
  out.qraux = std::move(tf.qraux);
  out.pivot = std::move(tf.pivot);
  out.rank = tf.rank;
  out.coef = tf.coef.topRows(tf.rank);
  out.effects = std::move(tf.effects);
  out.rsd = std::move(tf.rsd);
  out.reconstructed = true;
  return st;
}

void wls_dqrdc2(Eigen::Ref<Eigen::MatrixXd> Xw, Eigen::MatrixXd&& Yw, double tol, int threads,
                bool residuals, WlsStep& out) {
  QRPivoting piv = qr_dqrdc2_inplace(Xw, tol, threads);
  out.qraux = std::move(piv.qraux);
  out.pivot = std::move(piv.pivot);
  out.rank = piv.rank;
  out.reconstructed = false;
  qr_qty_inplace(Xw, out.qraux, out.rank, Yw);
  if (out.rank > 0)
    out.coef = qr_solve_r(Xw, out.rank, Yw);
  else
    out.coef.resize(0, Yw.cols());
  if (residuals) out.rsd = qr_resid_from_qty(Xw, out.qraux, out.rank, Yw);
  out.effects = std::move(Yw);
}

WlsStep wls_solve(Eigen::Ref<Eigen::MatrixXd> Xw, Eigen::MatrixXd&& Yw, double tol, int threads) {
  WlsStep out;
  const bool finite = Yw.allFinite() && Xw.allFinite();
  if (finite && wls_reconstruct(Xw, Yw, tol, threads, out) == TallStatus::kDone) return out;
  wls_dqrdc2(Xw, std::move(Yw), tol, threads, /*residuals=*/false, out);
  return out;
}

}  // namespace rmodels
