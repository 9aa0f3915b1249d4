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

// R's family names and their variance functions.
struct FamilyName {
  const char* name;
  FamilyKind family;
  VarianceKind variance;
};
constexpr FamilyName kFamilyNames[] = {
    {"gaussian", FamilyKind::Gaussian, VarianceKind::Gaussian},
    {"binomial", FamilyKind::Binomial, VarianceKind::Binomial},
    {"quasibinomial", FamilyKind::QuasiBinomial, VarianceKind::Binomial},
    {"poisson", FamilyKind::Poisson, VarianceKind::Poisson},
    {"quasipoisson", FamilyKind::QuasiPoisson, VarianceKind::Poisson},
    {"Gamma", FamilyKind::Gamma, VarianceKind::Gamma},
    {"inverse.gaussian", FamilyKind::InverseGaussian, VarianceKind::InverseGaussian},
    {"negative.binomial", FamilyKind::NegativeBinomial, VarianceKind::NegativeBinomial},
};

// quasi()'s variance names.
struct VarianceName {
  const char* name;
  VarianceKind variance;
};
constexpr VarianceName kQuasiVariances[] = {
    {"constant", VarianceKind::Gaussian}, {"mu(1-mu)", VarianceKind::QuasiBinomialVar},
    {"mu", VarianceKind::QuasiMu},        {"mu^2", VarianceKind::QuasiMu2},
    {"mu^3", VarianceKind::QuasiMu3},
};

// R's link names (power links, "mu^lambda", apart).
struct LinkName {
  const char* name;
  LinkKind link;
};
constexpr LinkName kLinkNames[] = {
    {"logit", LinkKind::Logit},       {"probit", LinkKind::Probit},
    {"cauchit", LinkKind::Cauchit},   {"cloglog", LinkKind::Cloglog},
    {"identity", LinkKind::Identity}, {"log", LinkKind::Log},
    {"sqrt", LinkKind::Sqrt},         {"1/mu^2", LinkKind::InverseSquare},
    {"inverse", LinkKind::Inverse},
};

void set_family_kind(Family& f, const std::string& family, const std::string& variance) {
  if (family == "quasi") {
    f.family = FamilyKind::Quasi;
    for (const auto& v : kQuasiVariances)
      if (variance == v.name) {
        f.variance = v.variance;
        return;
      }
    throw GlmError(GlmErrorKind::InvalidArgument, "'variance' \"" + variance + "\" is invalid");
  }
  for (const auto& k : kFamilyNames)
    if (family == k.name) {
      f.family = k.family;
      f.variance = k.variance;
      return;
    }
  throw GlmError(GlmErrorKind::InvalidArgument, "family '" + family + "' not recognized");
}

void set_link_kind(Family& f, const std::string& link, double lambda) {
  f.link_name = link;
  for (const auto& k : kLinkNames)
    if (link == k.name) {
      f.link = k.link;
      return;
    }
  if (link.rfind("mu^", 0) == 0) {
    f.link = LinkKind::Power;
    f.lambda = lambda;
    return;
  }
  throw GlmError(GlmErrorKind::InvalidArgument, "\u2018" + link + "\u2019 link not recognised");
}

bool binomial_like(const Family& f) {
  return f.family == FamilyKind::Binomial || f.family == FamilyKind::QuasiBinomial;
}

// R's error for a response of the wrong shape (a matrix that is not a binomial's two columns).
void check_response_shape(const Family& f, const Eigen::Ref<const Eigen::MatrixXd>& Y) {
  if (Y.cols() == 1 || (binomial_like(f) && Y.cols() == 2)) return;
  if (binomial_like(f)) {
    const char* label = f.family == FamilyKind::Binomial ? "binomial" : "quasibinomial";
    throw GlmError(GlmErrorKind::ResponseShape,
                   std::string("for the '") + label +
                       "' family, y must be a vector of 0 and 1's\nor a 2 column matrix where "
                       "col 1 is no. successes and col 2 is no. failures");
  }
  throw GlmError(GlmErrorKind::ResponseShape, "the response must be a vector");
}

// binomial()$initialize for a vector response: y[weights == 0] <- 0, the range check, mustart
// and the integer check of weights * y in one pass (the error before the warning, as R).
void initialize_binomial_vector(const Family& f, const Eigen::Ref<const Eigen::MatrixXd>& Y,
                                const Eigen::Ref<const Eigen::VectorXd>& weights,
                                Initialized& out) {
  std::atomic<bool> out_of_range{false}, non_integer{false};
  for_tasks(Y.rows(), kRowChunk, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
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
  if (out_of_range) throw GlmError(GlmErrorKind::ResponseValues, "y values must be 0 <= y <= 1");
  if (f.family == FamilyKind::Binomial && non_integer)
    add_warning(out, GlmWarningKind::NonIntegerSuccesses,
                "non-integer #successes in a binomial glm!");
}

// binomial()$initialize for cbind(successes, failures): the proportions, trials and weights.
void initialize_binomial_counts(const Family& f, const Eigen::Ref<const Eigen::MatrixXd>& Y,
                                const Eigen::Ref<const Eigen::VectorXd>& weights,
                                Initialized& out) {
  const Eigen::Index n = Y.rows();
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

// Throws the family's error when some y is outside its domain.
template <class Bad>
void check_domain(const Eigen::VectorXd& y, const char* message, Bad&& bad) {
  for (Eigen::Index i = 0; i < y.size(); ++i)
    if (bad(y[i])) throw GlmError(GlmErrorKind::ResponseValues, message);
}

// The domain checks of family$initialize (the non-binomial families).
void check_response_values(const Family& f, const Eigen::VectorXd& y, bool has_start) {
  switch (f.family) {
    case FamilyKind::Gaussian:
      if (has_start) return;
      for (Eigen::Index i = 0; i < y.size(); ++i)
        if ((f.link == LinkKind::Inverse && y[i] == 0) || (f.link == LinkKind::Log && y[i] <= 0))
          throw GlmError(GlmErrorKind::NoValidStart,
                         "cannot find valid starting values: please specify some");
      return;
    case FamilyKind::Poisson:
      return check_domain(y, "negative values not allowed for the 'Poisson' family",
                          [](double v) { return v < 0; });
    case FamilyKind::QuasiPoisson:
      return check_domain(y, "negative values not allowed for the 'quasiPoisson' family",
                          [](double v) { return v < 0; });
    case FamilyKind::Gamma:
      return check_domain(y, "non-positive values not allowed for the 'Gamma' family",
                          [](double v) { return v <= 0; });
    case FamilyKind::InverseGaussian:
      return check_domain(y, "positive values only are allowed for the 'inverse.gaussian' family",
                          [](double v) { return v <= 0; });
    case FamilyKind::NegativeBinomial:
      return check_domain(y, "negative values not allowed for the negative binomial family",
                          [](double v) { return v < 0; });
    default:
      return;
  }
}

// family$initialize's mustart (the non-binomial families).
void starting_means(const Family& f, const Eigen::VectorXd& y, Eigen::VectorXd& mustart) {
  mustart = y;
  switch (f.family) {
    case FamilyKind::Poisson:
    case FamilyKind::QuasiPoisson:
      mustart = y.array() + 0.1;
      return;
    case FamilyKind::NegativeBinomial:
      for (Eigen::Index i = 0; i < y.size(); ++i)
        if (y[i] == 0) mustart[i] = y[i] + 1.0 / 6;
      return;
    case FamilyKind::Quasi:
      if (f.variance == VarianceKind::QuasiBinomialVar) {
        mustart = y.array().min(0.999).max(0.001);
      } else if (f.variance != VarianceKind::Gaussian) {
        for (Eigen::Index i = 0; i < y.size(); ++i)
          if (y[i] == 0) mustart[i] = y[i] + 0.1;
      }
      return;
    default:
      return;
  }
}

}  // namespace

Family make_family(const std::string& family, const std::string& link, double lambda,
                   const std::string& variance, double theta) {
  Family f;
  f.theta = theta;
  set_family_kind(f, family, variance);
  if (f.family == FamilyKind::NegativeBinomial && !(theta > 0))
    throw GlmError(GlmErrorKind::InvalidArgument, "'theta' must be positive");
  set_link_kind(f, link, lambda);
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
  check_response_shape(f, Y);
  if (binomial_like(f)) {
    if (Y.cols() == 1)
      initialize_binomial_vector(f, Y, weights, out);
    else
      initialize_binomial_counts(f, Y, weights, out);
    return out;
  }
  out.y = Y.col(0);
  check_response_values(f, out.y, has_start);
  starting_means(f, out.y, out.mustart);
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
