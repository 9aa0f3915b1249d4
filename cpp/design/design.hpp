// The design-matrix kernel: the columns of one model-matrix term as the row-wise product of
// its components (numeric matrices and coded factors), in R's interaction column order.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace rmodels {

// One factor of a term's product, read through strides (in elements, not bytes) so that any
// numpy layout is used without a copy.
//   Numeric: value(i, j) = data[i * row_stride + j * col_stride], j < cols.
//   Factor : value(i, j) = coding[codes[i * code_stride] * crow_stride + j * ccol_stride]
//            where codes are 0-based level indices, -1 = missing (value NaN); coding is the
//            levels x cols contrast (or indicator) matrix.
struct TermComponent {
  enum class Kind { Numeric, Factor };
  Kind kind = Kind::Numeric;
  std::ptrdiff_t cols = 0;
  // numeric
  const double* data = nullptr;
  std::ptrdiff_t row_stride = 0, col_stride = 0;
  // factor
  const std::int32_t* codes = nullptr;
  std::ptrdiff_t code_stride = 0;
  const double* coding = nullptr;
  std::ptrdiff_t levels = 0, crow_stride = 0, ccol_stride = 0;
};

// The destination: column-major n x p block of doubles with leading dimension ld (>= n).
struct DesignOut {
  double* data = nullptr;
  std::ptrdiff_t rows = 0, cols = 0, ld = 0;
};

// Number of columns of the term: the product of the components' column counts (1 if none).
std::ptrdiff_t term_width(const std::vector<TermComponent>& comps);

// Throws std::invalid_argument if a factor code lies outside [-1, levels).
void check_factor_codes(const TermComponent& comp, std::ptrdiff_t n);

// Writes the term into out columns [col_offset, col_offset + term_width):
// column (j_1, ..., j_m) -> col_offset + j_1 + k_1 (j_2 + k_2 (j_3 + ...)) (first component
// fastest, as R's model.matrix orders a:b), value ((c_1(i, j_1) * c_2(i, j_2)) * ...) * c_m.
// A missing factor code makes the row's entries NaN. Rows are split into blocks over at most
// `threads` threads (0 = automatic by the amount of work), never more than
// std::thread::hardware_concurrency(); each entry is computed by the same operations whatever
// the split, so results do not depend on it.
// Returns the number of columns written.
std::ptrdiff_t fill_term(const DesignOut& out, std::ptrdiff_t col_offset,
                         const std::vector<TermComponent>& comps, int threads = 0);

// Maps values to the 0-based index of the equal entry of the sorted, NaN-free `levels`
// (binary search); NaN -> -1; a value equal to no level -> -2.
void match_levels(const double* values, std::ptrdiff_t n, std::ptrdiff_t stride,
                  const double* levels, std::ptrdiff_t nlevels, std::int32_t* codes_out);

}  // namespace rmodels
