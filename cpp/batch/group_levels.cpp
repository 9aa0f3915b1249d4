// The groups holding every level of a factor (see group_levels.hpp).
#include "group_levels.hpp"

#include <stdexcept>
#include <vector>

namespace rmodels {

template <class Code>
void clear_groups_missing_levels(const Code* codes, std::int64_t n_codes, std::int64_t levels,
                                 const std::int64_t* pos, const std::int64_t* bounds,
                                 std::int64_t groups, unsigned char* ok) {
  // seen[c] == g + 1: level c met in group g (no clearing between groups).
  std::vector<std::int64_t> seen(static_cast<std::size_t>(levels > 0 ? levels : 0), 0);
  for (std::int64_t g = 0; g < groups; ++g) {
    std::int64_t distinct = 0;
    for (std::int64_t k = bounds[g]; k < bounds[g + 1]; ++k) {
      const std::int64_t p = pos[k];
      if (p < 0) continue;
      if (p >= n_codes) throw std::invalid_argument("design row out of range");
      const std::int64_t c = static_cast<std::int64_t>(codes[p]);
      if (c < 0) continue;  // a missing value is no level
      if (c >= levels) throw std::invalid_argument("factor code out of range");
      std::int64_t& s = seen[static_cast<std::size_t>(c)];
      distinct += s != g + 1;
      s = g + 1;
    }
    if (distinct != levels) ok[g] = 0;
  }
}

template void clear_groups_missing_levels<std::int8_t>(const std::int8_t*, std::int64_t,
                                                       std::int64_t, const std::int64_t*,
                                                       const std::int64_t*, std::int64_t,
                                                       unsigned char*);
template void clear_groups_missing_levels<std::int16_t>(const std::int16_t*, std::int64_t,
                                                        std::int64_t, const std::int64_t*,
                                                        const std::int64_t*, std::int64_t,
                                                        unsigned char*);
template void clear_groups_missing_levels<std::int32_t>(const std::int32_t*, std::int64_t,
                                                        std::int64_t, const std::int64_t*,
                                                        const std::int64_t*, std::int64_t,
                                                        unsigned char*);
template void clear_groups_missing_levels<std::int64_t>(const std::int64_t*, std::int64_t,
                                                        std::int64_t, const std::int64_t*,
                                                        const std::int64_t*, std::int64_t,
                                                        unsigned char*);

}  // namespace rmodels
