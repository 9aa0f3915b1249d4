// R's printCoefmat cells and format.pval (src/library/stats/R/lmtest.R's printCoefmat,
// base's format.pval): the text of every cell of a coefficient table, before the layout
// (printMatrix). Numbers are formatted by formatReal/EncodeReal0 (format_real.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace rmodels {

// What printCoefmat formats, after its argument checks: columns of the Estimate/SE block
// (cs), of test statistics (tst), the p-value column (p_column, -1 for none) and the digits.
struct CoefmatSpec {
  int digits = 5;
  int dig_tst = 4;
  std::vector<int> cs;
  std::vector<int> tst;
  int p_column = -1;
  double eps_p = 2.220446049250313e-16;
  bool signif_stars = true;
  std::string na_print = "NA";
};

// The cells (row-major, nrow x ncol, plus a column of stars when shown) and whether the stars
// are shown (some p < 0.1).
struct CoefmatCells {
  std::vector<std::string> cells;
  std::ptrdiff_t ncol = 0;
  bool stars_shown = false;
};

// printCoefmat's cells of the nrow x ncol table x (row-major; kinds classify each cell as
// format_real.hpp's NumberKind): the cs block rounded to max(1, digits - 1 - floor(log10(min
// nonzero |x|))) decimals and formatted jointly, the tst columns rounded to dig_tst decimals and
// formatted jointly, other columns each on their own; cells reading 0 while the value is not
// (or the reverse) formatted again with digits - 1; NA cells as na_print, NaN as "NaN"; the p
// column by format.pval(digits = dig_tst) and the stars of symnum's cut points.
CoefmatCells coefmat_cells(const double* x, const std::int8_t* kinds, std::ptrdiff_t nrow,
                           std::ptrdiff_t ncol, const CoefmatSpec& spec);

// R's format.pval of n p-values (none NA): p >= eps in two groups (fixed when the exponent is
// >= -3, or -4 with digits > 1; the rest), each formatted with `digits`; p < eps as
// "<" + sep + format(eps, digits = max(1, digits - 2)) with R's width rule.
std::vector<std::string> format_pval(const double* p, std::ptrdiff_t n, int digits, double eps);

}  // namespace rmodels
