// GLM families from R's names (make_family), R's family$initialize (initialize_family) and the
// element-wise family functions over vectors.
#include <atomic>
#include <cmath>

#include "big_alloc.hpp"
#include "design_rows.hpp"
#include "glm.hpp"

namespace rmodels {

namespace {

void add_warning(Initialized& out, GlmWarningKind kind, const char* msg) {
  out.warnings.push_back(msg);
  out.warning_kinds.push_back(kind);
}

}  // namespace

Family make_family(const std::string& family, const std::string& link, double lambda,
                   const std::string& variance, double theta) {
  Family f;
  f.theta = theta;
  if (family == "gaussian") {
    f.family = FamilyKind::Gaussian;
    f.variance = VarianceKind::Gaussian;
  } else if (family == "binomial") {
    f.family = FamilyKind::Binomial;
    f.variance = VarianceKind::Binomial;
  } else if (family == "quasibinomial") {
    f.family = FamilyKind::QuasiBinomial;
    f.variance = VarianceKind::Binomial;
  } else if (family == "poisson") {
    f.family = FamilyKind::Poisson;
    f.variance = VarianceKind::Poisson;
  } else if (family == "quasipoisson") {
    f.family = FamilyKind::QuasiPoisson;
    f.variance = VarianceKind::Poisson;
  } else if (family == "Gamma") {
    f.family = FamilyKind::Gamma;
    f.variance = VarianceKind::Gamma;
  } else if (family == "inverse.gaussian") {
    f.family = FamilyKind::InverseGaussian;
    f.variance = VarianceKind::InverseGaussian;
  } else if (family == "negative.binomial") {
    f.family = FamilyKind::NegativeBinomial;
    f.variance = VarianceKind::NegativeBinomial;
    if (!(theta > 0)) throw GlmError(GlmErrorKind::InvalidArgument, "'theta' must be positive");
  } else if (family == "quasi") {
    f.family = FamilyKind::Quasi;
    if (variance == "constant")
      f.variance = VarianceKind::Gaussian;
    else if (variance == "mu(1-mu)")
      f.variance = VarianceKind::QuasiBinomialVar;
    else if (variance == "mu")
      f.variance = VarianceKind::QuasiMu;
    else if (variance == "mu^2")
      f.variance = VarianceKind::QuasiMu2;
    else if (variance == "mu^3")
      f.variance = VarianceKind::QuasiMu3;
    else
      throw GlmError(GlmErrorKind::InvalidArgument, "'variance' \"" + variance + "\" is invalid");
  } else {
    throw GlmError(GlmErrorKind::InvalidArgument, "family '" + family + "' not recognized");
  }
  f.link_name = link;
  if (link == "logit")
    f.link = LinkKind::Logit;
  else if (link == "probit")
    f.link = LinkKind::Probit;
  else if (link == "cauchit")
    f.link = LinkKind::Cauchit;
  else if (link == "cloglog")
    f.link = LinkKind::Cloglog;
  else if (link == "identity")
    f.link = LinkKind::Identity;
  else if (link == "log")
    f.link = LinkKind::Log;
  else if (link == "sqrt")
    f.link = LinkKind::Sqrt;
  else if (link == "1/mu^2")
    f.link = LinkKind::InverseSquare;
  else if (link == "inverse")
    f.link = LinkKind::Inverse;
  else if (link.rfind("mu^", 0) == 0) {
    f.link = LinkKind::Power;
    f.lambda = lambda;
  } else {
    throw GlmError(GlmErrorKind::InvalidArgument, "\u2018" + link + "\u2019 link not recognised");
  }
  return f;
}

Initialized initialize_family(const Family& f, const Eigen::Ref<const Eigen::MatrixXd>& Y,
                              const Eigen::Ref<const Eigen::VectorXd>& weights, bool has_start) {
  Initialized out;
  const Eigen::Index n = Y.rows();
  // Large vectors are allocated first (huge-page advice before the first write).
  resize_big(out.weights, n);
  resize_big(out.n, n);
  resize_big(out.y, n);
  resize_big(out.mustart, n);
  out.weights = weights;
  out.n.setOnes();
  const bool binomial_like =
      f.family == FamilyKind::Binomial || f.family == FamilyKind::QuasiBinomial;
  const char* fam_label = f.family == FamilyKind::Binomial ? "binomial" : "quasibinomial";
  if (Y.cols() != 1 && !(binomial_like && Y.cols() == 2)) {
    if (binomial_like)
      throw GlmError(GlmErrorKind::ResponseShape,
                     std::string("for the '") + fam_label +
                         "' family, y must be a vector of 0 and 1's\nor a 2 column matrix where "
                         "col 1 is no. successes and col 2 is no. failures");
    throw GlmError(GlmErrorKind::ResponseShape, "the response must be a vector");
  }
  if (binomial_like) {
    if (Y.cols() == 1) {
      // y[weights == 0] <- 0; the range check; mustart; the integer check of weights * y: one
      // pass (the error before the warning, as R).
      std::atomic<bool> out_of_range{false}, non_integer{false};
      for_tasks(n, kRowChunk, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
        bool bad = false, frac = false;
        for (Eigen::Index i = b; i < e; ++i) {
          const double w = weights[i], yi = w == 0 ? 0.0 : Y(i, 0);
          out.y[i] = yi;
          bad |= yi < 0 || yi > 1;
          out.mustart[i] = (w * yi + 0.5) / (w + 1);
          const double m = w * yi;
          frac |= std::fabs(m - std::nearbyint(m)) > 1e-3;
        }
        if (bad) out_of_range = true;
        if (frac) non_integer = true;
      });
      if (out_of_range)
        throw GlmError(GlmErrorKind::ResponseValues, "y values must be 0 <= y <= 1");
      if (f.family == FamilyKind::Binomial && non_integer)
        add_warning(out, GlmWarningKind::NonIntegerSuccesses,
                    "non-integer #successes in a binomial glm!");
    } else {
      if (f.family == FamilyKind::Binomial) {
        for (Eigen::Index i = 0; i < n && out.warnings.empty(); ++i)
          for (int j = 0; j < 2; ++j)
            if (std::fabs(Y(i, j) - std::nearbyint(Y(i, j))) > 1e-3) {
              add_warning(out, GlmWarningKind::NonIntegerCounts,
                          "non-integer counts in a binomial glm!");
              break;
            }
      }
      out.n = Y.col(0) + Y.col(1);
      out.y = Y.col(0).array() / out.n.array();
      for (Eigen::Index i = 0; i < n; ++i)
        if (out.n[i] == 0) out.y[i] = 0;
      out.weights = weights.array() * out.n.array();
      out.mustart = (out.n.array() * out.y.array() + 0.5) / (out.n.array() + 1);
    }
    return out;
  }
  out.y = Y.col(0);
  const Eigen::VectorXd& y = out.y;
  switch (f.family) {
    case FamilyKind::Gaussian:
      if (!has_start) {
        for (Eigen::Index i = 0; i < n; ++i)
          if ((f.link == LinkKind::Inverse && y[i] == 0) || (f.link == LinkKind::Log && y[i] <= 0))
            throw GlmError(GlmErrorKind::NoValidStart,
                           "cannot find valid starting values: please specify some");
      }
      out.mustart = y;
      break;
    case FamilyKind::Poisson:
    case FamilyKind::QuasiPoisson:
      for (Eigen::Index i = 0; i < n; ++i)
        if (y[i] < 0)
          throw GlmError(GlmErrorKind::ResponseValues,
                         f.family == FamilyKind::Poisson
                             ? "negative values not allowed for the 'Poisson' family"
                             : "negative values not allowed for the 'quasiPoisson' family");
      out.mustart = y.array() + 0.1;
      break;
    case FamilyKind::Gamma:
      for (Eigen::Index i = 0; i < n; ++i)
        if (y[i] <= 0)
          throw GlmError(GlmErrorKind::ResponseValues,
                         "non-positive values not allowed for the 'Gamma' family");
      out.mustart = y;
      break;
    case FamilyKind::InverseGaussian:
      for (Eigen::Index i = 0; i < n; ++i)
        if (y[i] <= 0)
          throw GlmError(GlmErrorKind::ResponseValues,
                         "positive values only are allowed for the 'inverse.gaussian' family");
      out.mustart = y;
      break;
    case FamilyKind::NegativeBinomial:
      for (Eigen::Index i = 0; i < n; ++i)
        if (y[i] < 0)
          throw GlmError(GlmErrorKind::ResponseValues,
                         "negative values not allowed for the negative binomial family");
      out.mustart = y;
      for (Eigen::Index i = 0; i < n; ++i)
        if (y[i] == 0) out.mustart[i] = y[i] + 1.0 / 6;
      break;
    case FamilyKind::Quasi:
      switch (f.variance) {
        case VarianceKind::Gaussian:
          out.mustart = y;
          break;
        case VarianceKind::QuasiBinomialVar:
          out.mustart = y.array().min(0.999).max(0.001);
          break;
        default:
          out.mustart = y;
          for (Eigen::Index i = 0; i < n; ++i)
            if (y[i] == 0) out.mustart[i] = y[i] + 0.1;
          break;
      }
      break;
    default:
      break;
  }
  return out;
}

Eigen::VectorXd family_apply(const Family& f, FamilyFunction what, const VecRef& a) {
  const Eigen::Index n = a.size();
  Eigen::VectorXd out(n);
  switch (what) {
    case FamilyFunction::LinkFun:
      for (Eigen::Index i = 0; i < n; ++i) out[i] = linkfun1(f, a[i]);
      break;
    case FamilyFunction::LinkInv:
      for (Eigen::Index i = 0; i < n; ++i) out[i] = linkinv1(f, a[i]);
      break;
    case FamilyFunction::MuEta:
      for (Eigen::Index i = 0; i < n; ++i) out[i] = mu_eta1(f, a[i]);
      break;
    case FamilyFunction::Variance:
      for (Eigen::Index i = 0; i < n; ++i) out[i] = variance1(f, a[i]);
      break;
  }
  return out;
}

Eigen::VectorXd family_dev_resids(const Family& f, const VecRef& y, const VecRef& mu,
                                  const VecRef& wt) {
  const Eigen::Index n = y.size();
  if (mu.size() != n || wt.size() != n)
    throw std::invalid_argument("y, mu and wt must have the same length");
  Eigen::VectorXd out(n);
  for (Eigen::Index i = 0; i < n; ++i) out[i] = dev_resid1(f, y[i], mu[i], wt[i]);
  return out;
}

}  // namespace rmodels
