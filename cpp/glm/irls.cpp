// IRLS for generalized linear models, step by step as R 4.2.2's stats::glm.fit.
//
// Each iteration (Irls::iterate): the working response z = (eta - offset) + (y - mu) / mu.eta(eta)
// and working weights W = w * mu.eta(eta)^2 / V(mu) on the "good" rows (w > 0, mu.eta != 0)
// (working_step); the weighted least-squares step min || sqrt(W) (z - X b) || with LINPACK
// dqrdc2's limited pivoting, tol = min(1e-7, epsilon / 1000) (solve_step: from the weighted Gram
// matrix of a sparse design, or wls.hpp's step); then eta = X b + offset, mu = g^{-1}(eta) and the
// deviance (update_step); a non-finite deviance or invalid eta/mu halve the step towards the
// previous coefficients (halve_divergent_step, halve_invalid_step); then the convergence test
// |dev - dev_old| / (|dev| + 0.1) < epsilon (converged). After the loop, R's warnings
// (final_warnings) and the result (finish).
//
// The Gram path: for a tall design whose rows are mostly zeros (factor dummies), an IRLS step
// needs neither the n x p Householder factor nor the good rows listed: only the coefficients of
// the step and, after the last step, R. With the non-zeros of X stored once by rows
// (design_rows.hpp), each step accumulates G = [sW X  sW z]'[sW X  sW z] (sW = sqrt of the
// working weights) over the non-zeros (rows_gram: deterministic for any thread count) and hands
// it to qr_tall.hpp's tall_solve_gram: the normal-equations form of the QR step that lm's
// reconstruction path takes, under the same conditions (column-equilibrated condition number of
// R~ at most 1e4, dqrdc2's rule run on R~ moves no column), giving the coefficients and R's R
// factor with LINPACK's row signs. Otherwise the step runs the ordinary path.
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <optional>

#include "glm.hpp"
#include "irls_rows.hpp"
#include "qr_tall.hpp"
#include "wls.hpp"

namespace rmodels {

namespace {

using namespace irls_rows;

std::string deviance_line(const char* pattern, double dev, int iter = 0) {
  char buf[128];
  std::snprintf(buf, sizeof buf, pattern, dev, iter);
  return buf;
}

// The state of glm.fit's IRLS between its steps, and the steps.
class Irls {
 public:
  Irls(const GlmDesign& D, GlmResult& res, const VecRef& offset, const Family& f,
       Eigen::VectorXd eta0, const std::optional<Eigen::VectorXd>& start, const GlmControl& control,
       Eigen::VectorXd& dev_buf)
      : D_(D),
        X_(D.X, D.X ? D.n : 0, D.X ? D.p : 0),
        n_(D.n),
        p_(D.p),
        res_(res),
        y_(res.y),
        weights_(res.prior_weights),
        offset_(offset),
        f_(f),
        control_(control),
        tol_(std::min(1e-7, control.epsilon / 1000)),
        dev_buf_(dev_buf),
        eta_(std::move(eta0)),
        coefold_(start) {
    start_means();
  }

  // glm.fit on a model without columns: eta = offset, nothing to iterate.
  void empty_model();
  // The iterations, R's warnings and the result.
  void run();

 private:
  void start_means();
  // Whether iteration `iter_` solved a step; false: stop iterating (R's break).
  bool iterate();
  kernels::Mat<long double> working_step();
  bool solve_gram(const kernels::Mat<long double>& G, Eigen::VectorXd& cf);
  void solve_dense(Eigen::Index ng, Eigen::VectorXd& cf);
  bool take_coefficients(const Eigen::VectorXd& cf);
  double update_step() {
    return update_fit(rows_ptr_, X_, beta_, offset_, f_, y_, weights_, eta_, mu_, mu_eta_,
                      dev_buf_);
  }
  void halve_divergent_step();
  void halve_invalid_step();
  bool converged();
  void final_warnings();
  void finish();

  const GlmDesign& D_;
  const Eigen::Map<const Eigen::MatrixXd> X_;
  const Eigen::Index n_, p_;
  GlmResult& res_;
  const Eigen::VectorXd& y_;
  const Eigen::VectorXd& weights_;
  const VecRef& offset_;
  const Family& f_;
  const GlmControl& control_;
  const double tol_;
  Eigen::VectorXd& dev_buf_;

  Eigen::VectorXd eta_, mu_, mu_eta_;  // mu_eta_: d mu / d eta at the current eta
  double dev_ = 0, devold_ = 0;
  Eigen::VectorXd beta_, coef_;
  std::optional<Eigen::VectorXd> coefold_;
  bool conv_ = false, boundary_ = false, have_fit_ = false;
  int iter_ = 0;
  // The last step's factor: sqrt(W) X on its good rows, overwritten by the compact QR (dense
  // path) or R (Gram path), its pivot and rank.
  Eigen::MatrixXd Xw_, last_R_;
  std::vector<int> pivot_;
  int rank_ = 0;
  bool last_gram_ = false;
  // The Gram path: X's rows kept once for every step (rows_ptr_ null once it is given up).
  SparseRows own_rows_;
  bool gram_ok_ = false;
  const SparseRows* rows_ptr_ = nullptr;
  // sW and sW z on the rows (0 outside the good rows); the mu.eta of the last step's weights.
  Eigen::VectorXd sw_, zwn_, step_mu_eta_;
  bool swapped_ = false;  // this iteration moved its mu.eta to step_mu_eta_
};

// mu and mu.eta at the starting eta.
void Irls::start_means() {
  mu_ = big_vector(n_);
  mu_eta_ = big_vector(n_);
  for_tasks(n_, kRowChunk, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
    Memo memo;  // the start eta often takes few values (a function of y and the weights)
    for (Eigen::Index i = b; i < e; ++i)
      memo.get2(eta_[i], mu_[i], mu_eta_[i],
                [&](double& m1, double& m2) { link_pair(f_, eta_[i], m1, m2); });
  });
}

void Irls::empty_model() {
  if (!valideta(f_, eta_))
    throw GlmError(GlmErrorKind::EmptyModel, "invalid linear predictor values in empty model");
  if (!validmu(f_, mu_))
    throw GlmError(GlmErrorKind::EmptyModel, "invalid fitted means in empty model");
  res_.deviance = deviance_sum(f_, y_, mu_, weights_);
  res_.working_weights.resize(n_);
  res_.working_residuals.resize(n_);
  for (Eigen::Index i = 0; i < n_; ++i) {
    double me = mu_eta1(f_, eta_[i]);
    res_.working_weights[i] = (weights_[i] * (me * me)) / variance1(f_, mu_[i]);
    res_.working_residuals[i] = (y_[i] - mu_[i]) / me;
  }
  res_.coefficients.resize(0);
  res_.R.resize(0, 0);
  res_.eta = eta_;
  res_.mu = mu_;
  res_.converged = res_.boundary = true;
  res_.iter = 0;
}

void Irls::run() {
  if (!(validmu(f_, mu_) && valideta(f_, eta_)))
    throw GlmError(GlmErrorKind::NoValidStart,
                   "cannot find valid starting values: please specify some");
  devold_ = deviance_rows_memo(f_, y_, mu_, weights_, dev_buf_);
  dev_ = devold_;
  beta_ = coefold_ ? *coefold_ : Eigen::VectorXd::Zero(p_);
  coef_ = beta_;
  gram_ok_ = D_.rows != nullptr || (D_.X != nullptr && sparse_rows(X_, own_rows_));
  rows_ptr_ = gram_ok_ ? (D_.rows ? D_.rows : &own_rows_) : nullptr;
  sw_ = big_vector(n_);
  zwn_ = big_vector(n_);
  for (iter_ = 1; iter_ <= control_.maxit; ++iter_) {
    if (!iterate()) break;
    if (converged()) break;
  }
  if (iter_ > control_.maxit) iter_ = control_.maxit;
  if (!have_fit_)
    throw GlmError(GlmErrorKind::NoInformativeObservations,
                   "no observations informative at the first iteration");
  final_warnings();
  finish();
}

// One iteration up to the convergence test.
bool Irls::iterate() {
  const kernels::Mat<long double> G = working_step();
  // The good rows (weights > 0, mu.eta != 0) are counted here and listed only where a step
  // needs them (the dense path), or once after the loop.
  swapped_ = false;
  const Eigen::Index ng = count_good(weights_, mu_eta_);
  if (ng == 0) {
    conv_ = false;
    res_.warn(GlmWarningKind::NoInformativeObservations,
              fmt_int("no observations informative at iteration %d", iter_));
    return false;
  }
  Eigen::VectorXd cf = Eigen::VectorXd::Zero(p_);
  last_gram_ = gram_ok_ && ng >= 4 * p_ + 16 && solve_gram(G, cf);
  if (!last_gram_) solve_dense(ng, cf);
  have_fit_ = true;
  if (!take_coefficients(cf)) return false;
  step_mu_eta_.swap(mu_eta_);  // keep the step's mu.eta (its good rows) for the end
  swapped_ = true;
  dev_ = update_step();
  res_.trace.push_back(deviance_line("Deviance = %.17g Iterations - %d", dev_, iter_));
  boundary_ = false;
  if (!std::isfinite(dev_)) halve_divergent_step();
  if (!(valideta(f_, eta_) && validmu(f_, mu_))) halve_invalid_step();
  return true;
}

// Element-wise: V(mu), mu.eta, and sW, sW z on the good rows (sW = 0 elsewhere), with glm.fit's
// checks; on the Gram path in the same pass as G (returned; empty otherwise).
kernels::Mat<long double> Irls::working_step() {
  std::mutex flag_mutex;
  WorkFlags flags;
  auto block_weights = [&](Eigen::Index r0, Eigen::Index r1) {
    WorkFlags fl;
    working_rows(f_, eta_.data(), mu_.data(), mu_eta_.data(), y_.data(), weights_.data(),
                 offset_.data(), sw_.data(), zwn_.data(), r0, r1, fl);
    if (fl.nan_var | fl.zero_var | fl.nan_mu_eta | fl.nonfinite) {
      std::lock_guard<std::mutex> lock(flag_mutex);
      flags.nan_var |= fl.nan_var;
      flags.zero_var |= fl.zero_var;
      flags.nan_mu_eta |= fl.nan_mu_eta;
      flags.nonfinite |= fl.nonfinite;
    }
  };
  kernels::Mat<long double> G;
  if (gram_ok_)
    G = rows_gram(*rows_ptr_, sw_, zwn_, block_weights);
  else
    for_tasks(n_, kRowChunk,
              [&](Eigen::Index, Eigen::Index b, Eigen::Index e) { block_weights(b, e); });
  if (flags.nan_var) throw GlmError(GlmErrorKind::InvalidWorkingValues, "NAs in V(mu)");
  if (flags.zero_var) throw GlmError(GlmErrorKind::InvalidWorkingValues, "0s in V(mu)");
  if (flags.nan_mu_eta) throw GlmError(GlmErrorKind::InvalidWorkingValues, "NAs in d(mu)/d(eta)");
  if (flags.nonfinite) G.resize(0, 0);  // a non-finite working value: not the Gram path
  return G;
}

// The step from the weighted Gram matrix G; false (and the Gram path given up for good) when
// the design needs the column-by-column path.
bool Irls::solve_gram(const kernels::Mat<long double>& G, Eigen::VectorXd& cf) {
  if (G.size() == 0) return false;
  // The first p good rows of sW X and sW z (the top of the matrix R's QR would see).
  const SparseRows& rows = *rows_ptr_;
  kernels::Mat<long double> Xtop(p_, p_), ztop(p_, 1);
  for (Eigen::Index i = 0, k = 0; k < p_; ++i) {
    if (!(weights_[i] > 0 && mu_eta_[i] != 0)) continue;
    for (Eigen::Index j = 0; j < p_; ++j)
      Xtop(k, j) =
          static_cast<long double>((D_.X ? X_(i, j) : rows.at(i, static_cast<int>(j))) * sw_[i]);
    ztop(k, 0) = static_cast<long double>(zwn_[i]);
    ++k;
  }
  Eigen::VectorXd b;
  if (!tall_solve_gram(G, Xtop, ztop, tol_, b, last_R_)) {
    gram_ok_ = false;  // the design needs the column-by-column path: keep to it
    rows_ptr_ = nullptr;
    return false;
  }
  rank_ = static_cast<int>(p_);
  pivot_.resize(p_);
  for (Eigen::Index j = 0; j < p_; ++j) pivot_[j] = static_cast<int>(j);
  cf = b;
  ++res_.gram_steps;
  return true;
}

// The step from sqrt(W) X on the ng good rows (wls.hpp).
void Irls::solve_dense(Eigen::Index ng, Eigen::VectorXd& cf) {
  if (D_.X == nullptr) throw GlmNeedsDense();
  std::vector<Eigen::Index> good_rows;
  Eigen::VectorXd w_good;  // sqrt working weights on the good rows
  list_good(weights_, mu_eta_, sw_, good_rows, w_good);
  Xw_.resize(ng, p_);
  Eigen::MatrixXd zw(ng, 1);
  for (Eigen::Index k = 0; k < ng; ++k) zw(k, 0) = zwn_[good_rows[k]];
  if (ng == n_) {  // every row is good: a straight scaled copy (vectorised)
    for (Eigen::Index j = 0; j < p_; ++j) Xw_.col(j).array() = X_.col(j).array() * w_good.array();
  } else {
    for (Eigen::Index j = 0; j < p_; ++j)
      for (Eigen::Index k = 0; k < ng; ++k) Xw_(k, j) = X_(good_rows[k], j) * w_good[k];
  }
  WlsStep step = wls_solve(Xw_, std::move(zw), tol_, /*threads=*/0);
  pivot_ = std::move(step.pivot);
  rank_ = step.rank;
  if (rank_ > 0) cf.head(rank_) = step.coef.col(0);
  if (step.reconstructed) ++res_.reconstructed_steps;
}

// beta from the step's coefficients (pivoted order, aliased as 0); false when one is not finite
// (R's warning and break).
bool Irls::take_coefficients(const Eigen::VectorXd& cf) {
  for (int j = 0; j < rank_; ++j) {
    if (!std::isfinite(cf[j])) {
      conv_ = false;
      res_.warn(GlmWarningKind::NonFiniteCoefficients,
                fmt_int("non-finite coefficients at iteration %d", iter_));
      return false;
    }
  }
  if (n_ < rank_) {
    char buf[256];
    std::snprintf(buf, sizeof buf, "X matrix has rank %d, but only %d observation%s", rank_,
                  static_cast<int>(n_), n_ == 1 ? "" : "s");
    throw GlmError(GlmErrorKind::RankExceedsObservations, buf);
  }
  for (Eigen::Index j = 0; j < p_; ++j) beta_[pivot_[j]] = (j < rank_) ? cf[j] : 0.0;
  return true;
}

// A non-finite deviance: halve the step towards the previous coefficients until it is finite.
void Irls::halve_divergent_step() {
  if (!coefold_)
    throw GlmError(GlmErrorKind::NoValidCoefficients,
                   "no valid set of coefficients has been found: please supply starting values");
  res_.warn(GlmWarningKind::StepTruncatedDivergence, "step size truncated due to divergence");
  int ii = 1;
  while (!std::isfinite(dev_)) {
    if (ii > control_.maxit)
      throw GlmError(GlmErrorKind::StepCorrection, "inner loop 1; cannot correct step size");
    ++ii;
    beta_ = (beta_ + *coefold_) / 2;
    dev_ = update_step();
  }
  boundary_ = true;
  res_.trace.push_back(deviance_line("Step halved: new deviance = %.17g", dev_));
}

// eta or mu outside the family's range: halve the step until both are valid.
void Irls::halve_invalid_step() {
  if (!coefold_)
    throw GlmError(GlmErrorKind::NoValidCoefficients,
                   "no valid set of coefficients has been found: please supply starting values");
  res_.warn(GlmWarningKind::StepTruncatedOutOfBounds, "step size truncated: out of bounds");
  int ii = 1;
  while (!(valideta(f_, eta_) && validmu(f_, mu_))) {
    if (ii > control_.maxit)
      throw GlmError(GlmErrorKind::StepCorrection, "inner loop 2; cannot correct step size");
    ++ii;
    beta_ = (beta_ + *coefold_) / 2;
    update_step();
  }
  boundary_ = true;
  dev_ = deviance_rows(f_, y_, mu_, weights_, dev_buf_);
  res_.trace.push_back(deviance_line("Step halved: new deviance = %.17g", dev_));
}

// glm.fit's convergence test; otherwise the step becomes the fallback of the next one.
bool Irls::converged() {
  if (std::fabs(dev_ - devold_) / (0.1 + std::fabs(dev_)) < control_.epsilon) {
    conv_ = true;
    coef_ = beta_;
    return true;
  }
  devold_ = dev_;
  coef_ = beta_;
  coefold_ = beta_;
  return false;
}

void Irls::final_warnings() {
  if (!conv_) res_.warn(GlmWarningKind::NotConverged, "glm.fit: algorithm did not converge");
  if (boundary_)
    res_.warn(GlmWarningKind::Boundary, "glm.fit: algorithm stopped at boundary value");
  const double eps10 = 10 * DBL_EPSILON;
  if (f_.family == FamilyKind::Binomial) {
    for (Eigen::Index i = 0; i < n_; ++i)
      if (mu_[i] > 1 - eps10 || mu_[i] < eps10) {
        res_.warn(GlmWarningKind::FittedProbabilitiesZeroOne,
                  "glm.fit: fitted probabilities numerically 0 or 1 occurred");
        break;
      }
  }
  if (f_.family == FamilyKind::Poisson) {
    for (Eigen::Index i = 0; i < n_; ++i)
      if (mu_[i] < eps10) {
        res_.warn(GlmWarningKind::FittedRatesZero, "glm.fit: fitted rates numerically 0 occurred");
        break;
      }
  }
}

// The result: coefficients (aliased NaN), working residuals and weights, R, the fit.
void Irls::finish() {
  for (Eigen::Index j = rank_; j < p_; ++j) coef_[pivot_[j]] = NAN;
  // Working residuals at the final eta, in zwn's storage; working weights sW^2 of the last step
  // (sW is 0 outside its good rows), in sW's.
  const Eigen::VectorXd& step_me = swapped_ ? step_mu_eta_ : mu_eta_;
  for_tasks(n_, kRowChunk, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
    for (Eigen::Index i = b; i < e; ++i) {
      zwn_[i] = (y_[i] - mu_[i]) / mu_eta_[i];
      const bool good = weights_[i] > 0 && step_me[i] != 0;
      res_.good[i] = good;
      sw_[i] = good ? sw_[i] * sw_[i] : 0.0;
    }
  });
  res_.working_residuals = std::move(zwn_);
  res_.working_weights = std::move(sw_);
  if (last_gram_) {
    res_.R = last_R_;
  } else {
    const Eigen::Index nr = std::min<Eigen::Index>(count_good(weights_, step_me), p_);
    res_.R = Eigen::MatrixXd::Identity(p_, p_);
    res_.R.topRows(nr) = Xw_.topRows(nr);
    for (Eigen::Index j = 0; j < p_; ++j)
      for (Eigen::Index i = j + 1; i < p_; ++i) res_.R(i, j) = 0.0;
  }
  res_.coefficients = coef_;
  res_.eta = std::move(eta_);
  res_.mu = std::move(mu_);
  res_.deviance = dev_;
  res_.iter = iter_;
  res_.converged = conv_;
  res_.boundary = boundary_;
  res_.pivot = pivot_;
  res_.rank = rank_;
}

}  // namespace

GlmResult glm_irls(const GlmDesign& D, Eigen::VectorXd y, Eigen::VectorXd weights,
                   const VecRef& offset, const Family& f, Eigen::VectorXd eta0,
                   const std::optional<Eigen::VectorXd>& start, const GlmControl& control,
                   Eigen::VectorXd* scratch) {
  GlmResult res;
  res.y = std::move(y);
  res.prior_weights = std::move(weights);
  res.good.assign(D.n, 1);
  Eigen::VectorXd own_buf;
  Irls irls(D, res, offset, f, std::move(eta0), start, control, scratch ? *scratch : own_buf);
  if (D.p == 0)
    irls.empty_model();
  else
    irls.run();
  return res;
}

}  // namespace rmodels
