// An lm fit whose compact factor was deferred (LmFit::deferred): the small matrices of the
// reconstruction path and, once asked for, the factor written over the design buffer and the full
// effects. The buffer itself (sqrt(w) X on the used rows) belongs to the caller, who must not
// change it in between.
#pragma once
#include <Eigen/Dense>
#include <memory>
#include <mutex>

#include "qr_tall.hpp"

namespace rmodels {

struct LmFit;

class DeferredFactor {
 public:
  // From a fit with fit.deferred set (its factor state is copied; the fit keeps its fields).
  explicit DeferredFactor(const LmFit& fit);

  Eigen::Index n_used() const { return n_used_; }
  int p() const { return f_->p; }
  // Whether the factor has been written over the buffer.
  bool written() const { return written_; }

  // Writes the factor over x (the buffer's first n_used rows, still sqrt(w) X) once and keeps
  // the full effects Q'sqrt(w)(y - offset) (n_used x k) for take_effects(). Thread-safe: later
  // calls do nothing.
  void materialise(Eigen::Ref<Eigen::MatrixXd> x);
  // The full effects computed by materialise() (moved out: the first call only).
  Eigen::MatrixXd take_effects() { return std::move(eff_); }

  // Hat values h_i = ||row i of Q1||^2 (before R's 1 - 10 eps clamp): from the design as
  // ||x_i' R^{-1}||^2 while the factor is deferred, from the factor (qr_hat) once written.
  Eigen::VectorXd hat(Eigen::Ref<Eigen::MatrixXd> x);

 private:
  std::shared_ptr<TallFactor> f_;
  Eigen::Index n_used_ = 0;
  Eigen::MatrixXd effects_top_;  // rank x k
  Eigen::VectorXd qraux_;
  int rank_ = 0;
  std::mutex mu_;  // serialises the passes over the buffer
  bool written_ = false;
  Eigen::MatrixXd eff_;
};

}  // namespace rmodels
