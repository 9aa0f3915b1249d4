// rmodels._core: the compiled numerical core. Each algorithm registers its own bindings.
#include <pybind11/pybind11.h>

#include "bindings.hpp"

PYBIND11_MODULE(_core, m) {
  m.doc() = "rmodels compiled core (C++17, Eigen 3.4)";
  rmodels::register_design(m);
  rmodels::register_lm(m);
  rmodels::register_glm(m);
  rmodels::register_lmer(m);
  rmodels::register_glmer(m);
  rmodels::register_batch(m);
  rmodels::register_format(m);
  rmodels::register_rng(m);
  rmodels::register_boot(m);
}
