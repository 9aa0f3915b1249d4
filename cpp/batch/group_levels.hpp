// Which groups of a grouped fit can take their rows of the whole-data design: those whose rows
// hold every level of every factor of the model frame (R's drop.unused.levels then drops
// nothing in the group's own model frame). One pass over the rows per factor, in group order.
#pragma once
#include <cstdint>

namespace rmodels {

// For every group g (rows order[bounds[g] .. bounds[g + 1]) of the data, `pos` giving each such
// row's design row or -1 for a row left out), whether its design rows hold every one of the
// factor's `levels` levels (codes: one per design row, 0-based, negative for a missing value).
// ok[g] is cleared when not (and left alone otherwise). Throws std::invalid_argument for a code
// of `levels` or more, or a design row outside [0, n_codes).
template <class Code>
void clear_groups_missing_levels(const Code* codes, std::int64_t n_codes, std::int64_t levels,
                                 const std::int64_t* pos, const std::int64_t* bounds,
                                 std::int64_t groups, unsigned char* ok);

}  // namespace rmodels
