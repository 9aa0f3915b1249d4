// Bindings for the design module (owner fills this in).
#include "bindings.hpp"

namespace rmodels {
void register_design(pybind11::module_& m) { (void)m; }
}  // namespace rmodels
