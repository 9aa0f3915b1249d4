// Bindings for the lm module (owner fills this in).
#include "bindings.hpp"

namespace rmodels {
void register_lm(pybind11::module_& m) { (void)m; }
}  // namespace rmodels
