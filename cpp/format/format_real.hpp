// R's number formatting (src/main/format.c, printutils.c, nmath/fround.c): the common format
// of a numeric vector (formatReal with its scientific()), one number in that format
// (EncodeReal0), round(x, digits) (R 4's fround) and signif(x, digits) (fprec). Printing is the one
// place where R's results are text: these run for every number of every printed table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace rmodels {

// The kinds of the entries of a numeric vector (printing/numbers.py's KIND_*).
enum class NumberKind : std::int8_t { Finite = 0, NA = 1, NaN = 2, PosInf = 3, NegInf = 4 };

// formatReal's common format: field width, decimals, and whether scientific notation is used.
struct RealFormat {
  int width = 0;
  int decimals = 0;
  int exponent = 0;  // 0: fixed; 1 or 2: scientific with that many exponent digits at least
};

// R's formatReal over n numbers (kinds[i] classifies x[i]): the width and decimals that show
// each finite number to `digits` significant digits (at least `nsmall` decimals in fixed
// notation), fixed notation unless it is wider than scientific by more than `scipen`; widths of
// NA (na_width), NaN, Inf and -Inf included.
RealFormat format_real(const double* x, const std::int8_t* kinds, std::ptrdiff_t n, int digits,
                       int nsmall, int na_width, int scipen);

// R's EncodeReal0: one number in the format f, right-justified to its width (`na` for NA).
std::string encode_real(double x, NumberKind kind, const RealFormat& f, const std::string& na);

// R 4's fround: x rounded to `digits` decimals, the nearer of its two neighbours with that many
// decimals (ties to the even last digit).
double fround(double x, double digits);

// R's fprec: signif(x, digits), x rounded to `digits` significant digits.
double fprec(double x, double digits);

}  // namespace rmodels
