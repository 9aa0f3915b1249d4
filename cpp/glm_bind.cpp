// Bindings for the glm module (owner fills this in).
#include "bindings.hpp"

namespace rmodels {
void register_glm(pybind11::module_& m) { (void)m; }
}  // namespace rmodels
