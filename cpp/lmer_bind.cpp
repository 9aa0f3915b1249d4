// Bindings for the lmer module (owner fills this in).
#include "bindings.hpp"

namespace rmodels {
void register_lmer(pybind11::module_& m) { (void)m; }
}  // namespace rmodels
