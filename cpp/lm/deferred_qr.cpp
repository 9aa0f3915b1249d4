// The deferred compact factor of a reconstructed lm fit (see deferred_qr.hpp).
#include "deferred_qr.hpp"

#include "lm.hpp"

namespace rmodels {

DeferredFactor::DeferredFactor(const LmFit& fit)
    : f_(fit.deferred),
      n_used_(fit.n_used),
      effects_top_(fit.effects),
      qraux_(fit.qraux),
      rank_(fit.rank) {}

void DeferredFactor::materialise(Eigen::Ref<Eigen::MatrixXd> x) {
  std::lock_guard<std::mutex> lock(mu_);
  if (written_) return;
  eff_ = tall_materialise(*f_, x, effects_top_);
  written_ = true;
  f_->yw.resize(0, 0);  // only the hat values use f_ from now on
}

Eigen::VectorXd DeferredFactor::hat(Eigen::Ref<Eigen::MatrixXd> x) {
  std::lock_guard<std::mutex> lock(mu_);
  return written_ ? qr_hat(x, qraux_, rank_) : tall_hat(*f_, x);
}

}  // namespace rmodels
