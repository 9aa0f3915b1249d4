// glm() + glm.fit() around the IRLS (irls.cpp): family$initialize, the starting linear
// predictor in R's order of precedence, and the null deviance with glm's intercept-only refit.
#include "glm.hpp"

#include <optional>
#include <stdexcept>

#include "irls_rows.hpp"

namespace rmodels {

using namespace irls_rows;

GlmResult glm_fit(const Eigen::Ref<const Eigen::MatrixXd>& X,
                  const Eigen::Ref<const Eigen::MatrixXd>& Y, const VecRef& weights,
                  const VecRef& offset, bool has_offset, const Family& f, const GlmStart& st,
                  const GlmControl& control, bool intercept, int intercept_col) {
  // A copy only when X is not plain column-major storage (a strided view).
  Eigen::MatrixXd copy;
  const double* data = X.data();
  if (X.outerStride() != X.rows() && X.cols() > 1) {
    copy = X;
    data = copy.data();
  }
  GlmDesign D{data, X.rows(), X.cols(), nullptr};
  return glm_fit(D, Y, weights, offset, has_offset, f, st, control, intercept, intercept_col);
}

namespace {

// The starting linear predictor in R's order of precedence: the offset for an empty model, then
// etastart, start (X start + offset; `coefold` becomes start), else linkfun(mustart) (taken
// from init, in its storage).
Eigen::VectorXd starting_eta(const GlmDesign& D, const VecRef& offset, const Family& f,
                             const GlmStart& st, Initialized& init,
                             std::optional<Eigen::VectorXd>& coefold) {
  const Eigen::Index n = D.n, p = D.p;
  if (p == 0) return offset;  // empty model: eta = 0 + offset whatever the starting values
  if (st.etastart) return *st.etastart;
  Eigen::VectorXd eta0;
  if (st.start) {
    if (st.start->size() != p)
      throw GlmError(GlmErrorKind::InvalidArgument,
                     "length of 'start' should equal " + std::to_string(p));
    coefold = *st.start;
    if (D.X) {
      eta0 = linear_predictor(Eigen::Map<const Eigen::MatrixXd>(D.X, n, p), *st.start, offset);
    } else {
      Eigen::VectorXd mu0, me0, buf;
      update_fit(D.rows, Eigen::MatrixXd(), *st.start, offset, f, init.y, init.weights, eta0, mu0,
                 me0, buf);
    }
    return eta0;
  }
  eta0 = std::move(init.mustart);
  for_tasks(n, kRowChunk, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
    Memo memo;  // mustart is a function of y and the weights: few distinct values, often
    for (Eigen::Index i = b; i < e; ++i)
      eta0[i] = memo.get(eta0[i], 0, 0, [&] { return linkfun1(f, eta0[i]); });
  });
  return eta0;
}

// glm.fit's null deviance: the deviance at the weighted mean of y (with an intercept) or at
// linkinv(offset).
double null_deviance(const Family& f, const Eigen::VectorXd& y, const Eigen::VectorXd& w,
                     const VecRef& offset, bool intercept, Eigen::VectorXd& scratch) {
  if (!intercept) return deviance_sum(f, y, linkinv(f, offset), w);
  long double swy = 0, sw = 0;
  for (Eigen::Index i = 0; i < y.size(); ++i) {
    swy += w[i] * y[i];
    sw += w[i];
  }
  const double wtdmu = static_cast<double>(swy / sw);
  return deviance_rows_by(f, y, [wtdmu](Eigen::Index) { return wtdmu; }, w, scratch, true);
}

// glm's null deviance with an offset and an intercept: the IRLS of the intercept-only model,
// started at linkfun of the fit's means; its warnings are added to res's.
void refit_null_deviance(const GlmDesign& D, const VecRef& offset, const Family& f,
                         const GlmControl& control, int intercept_col, GlmResult& res,
                         Eigen::VectorXd& scratch) {
  const Eigen::Index n = D.n;
  Eigen::VectorXd eta_null = big_vector(n);
  for (Eigen::Index i = 0; i < n; ++i) eta_null[i] = linkfun1(f, res.mu[i]);
  Eigen::VectorXd icol = big_vector(n);
  if (D.X) {
    icol = Eigen::Map<const Eigen::MatrixXd>(D.X, n, D.p).col(intercept_col);
  } else {
    for (Eigen::Index i = 0; i < n; ++i) icol[i] = D.rows->at(i, intercept_col);
  }
  GlmResult fit2 = glm_irls(GlmDesign{icol.data(), n, 1, nullptr}, res.y, res.prior_weights, offset,
                            f, std::move(eta_null), std::nullopt, control, &scratch);
  res.warnings.insert(res.warnings.end(), fit2.warnings.begin(), fit2.warnings.end());
  res.warning_kinds.insert(res.warning_kinds.end(), fit2.warning_kinds.begin(),
                           fit2.warning_kinds.end());
  if (!fit2.converged)
    res.warn(GlmWarningKind::NullDevianceNotConverged,
             "fitting to calculate the null deviance did not converge -- increase 'maxit'?");
  res.null_deviance = fit2.deviance;
}

}  // namespace

GlmResult glm_fit(const GlmDesign& D, const Eigen::Ref<const Eigen::MatrixXd>& Y,
                  const VecRef& weights, const VecRef& offset, bool has_offset, const Family& f,
                  const GlmStart& st, const GlmControl& control, bool intercept,
                  int intercept_col) {
  if (Y.rows() != D.n) throw std::invalid_argument("X and Y differ in their number of rows");
  const bool has_start = st.start || st.etastart || st.mustart;
  Initialized init = initialize_family(f, Y, weights, has_start);
  if (st.mustart) init.mustart = *st.mustart;
  std::optional<Eigen::VectorXd> coefold;
  Eigen::VectorXd eta0 = starting_eta(D, offset, f, st, init, coefold);
  Eigen::VectorXd scratch;
  GlmResult res = glm_irls(D, std::move(init.y), std::move(init.weights), offset, f,
                           std::move(eta0), coefold, control, &scratch);
  res.warnings.insert(res.warnings.begin(), init.warnings.begin(), init.warnings.end());
  res.warning_kinds.insert(res.warning_kinds.begin(), init.warning_kinds.begin(),
                           init.warning_kinds.end());
  res.n_trials = std::move(init.n);
  res.null_deviance = null_deviance(f, res.y, res.prior_weights, offset, intercept, scratch);
  if (has_offset && intercept && intercept_col >= 0 && D.p > 0)
    refit_null_deviance(D, offset, f, control, intercept_col, res, scratch);
  return res;
}

}  // namespace rmodels
