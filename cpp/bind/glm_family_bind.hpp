// The family object of the glm bindings (_core.GlmFamily): made once per Python Family and
// passed to glm_fit / glm_fit_rows (and to any binding that fits glms, e.g. the grouped fits:
// take `const GlmFamily&` and pass `.core`).
#pragma once
#include <cmath>
#include <string>
#include <utility>

#include "glm.hpp"

namespace rmodels {

// A family as Python builds it: the core's Family and the names it was made from (R's
// family$family, link, variance; lambda of power links; theta of the negative binomial).
struct GlmFamily {
  Family core;
  std::string family, link, variance;
  double lambda = 1.0, theta = NAN;
  GlmFamily(std::string fam, std::string lnk, double lam, std::string var, double th)
      : core(make_family(fam, lnk, lam, var, th)),
        family(std::move(fam)),
        link(std::move(lnk)),
        variance(std::move(var)),
        lambda(lam),
        theta(th) {}
};

}  // namespace rmodels
