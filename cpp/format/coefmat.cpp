// R's printCoefmat cells and format.pval (see coefmat.hpp).
#include "coefmat.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <utility>

#include "format_real.hpp"

namespace rmodels {

namespace {

constexpr std::int8_t kFinite = static_cast<std::int8_t>(NumberKind::Finite);
constexpr std::int8_t kNA = static_cast<std::int8_t>(NumberKind::NA);
constexpr std::int8_t kNaN = static_cast<std::int8_t>(NumberKind::NaN);

std::int8_t kind_of(double v) {
  if (std::isnan(v)) return kNA;
  if (std::isinf(v))
    return static_cast<std::int8_t>(v > 0 ? NumberKind::PosInf : NumberKind::NegInf);
  return kFinite;
}

// format(x, digits): formatReal's common format, then EncodeReal0 of each number.
std::vector<std::string> format_numbers(const std::vector<double>& x,
                                        const std::vector<std::int8_t>& kinds, int digits) {
  const RealFormat f =
      format_real(x.data(), kinds.data(), static_cast<std::ptrdiff_t>(x.size()), digits, 0, 2, 0);
  std::vector<std::string> out;
  out.reserve(x.size());
  const std::string na = "NA";
  for (std::size_t i = 0; i < x.size(); ++i)
    out.push_back(encode_real(x[i], static_cast<NumberKind>(kinds[i]), f, na));
  return out;
}

// The number a cell's text reads (as.numeric), false when it reads none.
bool parse_number(const std::string& s, double* value) {
  const char* begin = s.c_str();
  char* end = nullptr;
  *value = std::strtod(begin, &end);
  if (end == begin) return false;
  while (*end != '\0' && std::isspace(static_cast<unsigned char>(*end))) ++end;
  return *end == '\0';
}

bool missing(std::int8_t k) { return k == kNA || k == kNaN; }

// symnum(p, cutpoints = c(0, .001, .01, .05, .1, 1)), intervals closed on the right.
const char* signif_star(double p) {
  if (p <= 0.001) return "***";
  if (p <= 0.01) return "**";
  if (p <= 0.05) return "*";
  if (p <= 0.1) return ".";
  return " ";
}

class CoefmatWriter {
 public:
  CoefmatWriter(const double* x, const std::int8_t* kinds, std::ptrdiff_t nrow, std::ptrdiff_t ncol,
                const CoefmatSpec& spec)
      : x_(x), kinds_(kinds), nrow_(nrow), ncol_(ncol), spec_(spec) {
    out_.cells.assign(static_cast<std::size_t>(nrow * ncol), std::string());
    out_.ncol = ncol;
  }

  CoefmatCells run() {
    estimate_block();
    if (!spec_.tst.empty()) format_block(spec_.tst, spec_.dig_tst);
    other_columns();
    fix_zero_cells();
    missing_cells();
    p_values();
    return std::move(out_);
  }

 private:
  double value(std::ptrdiff_t i, std::ptrdiff_t j) const { return x_[i * ncol_ + j]; }
  std::int8_t kind(std::ptrdiff_t i, std::ptrdiff_t j) const { return kinds_[i * ncol_ + j]; }
  std::string& cell(std::ptrdiff_t i, std::ptrdiff_t j) { return out_.cells[i * ncol_ + j]; }
  bool in(const std::vector<int>& cols, std::ptrdiff_t j) const {
    return std::find(cols.begin(), cols.end(), static_cast<int>(j)) != cols.end();
  }

  // The Estimate/SE columns: rounded to max(1, digits - digmin) decimals, digmin = 1 +
  // floor(log10(min nonzero |x|)) over their finite cells (1 when all are zero).
  void estimate_block() {
    if (spec_.cs.empty()) return;
    bool any_finite = false;
    double min_nonzero = HUGE_VAL;
    for (int j : spec_.cs)
      for (std::ptrdiff_t i = 0; i < nrow_; ++i) {
        if (kind(i, j) != kFinite) continue;
        any_finite = true;
        const double a = std::fabs(value(i, j));
        if (a != 0.0) min_nonzero = std::min(min_nonzero, a);
      }
    if (!any_finite) return;
    const int digmin =
        min_nonzero != HUGE_VAL ? 1 + static_cast<int>(std::floor(std::log10(min_nonzero))) : 1;
    format_block(spec_.cs, std::max(1, spec_.digits - digmin));
  }

  // Columns formatted together (column-major), finite cells rounded to `decimals` first.
  void format_block(const std::vector<int>& cols, int decimals) {
    std::vector<double> v;
    std::vector<std::int8_t> k;
    for (int j : cols)
      for (std::ptrdiff_t i = 0; i < nrow_; ++i) {
        k.push_back(kind(i, j));
        v.push_back(k.back() == kFinite ? fround(value(i, j), decimals) : value(i, j));
      }
    const std::vector<std::string> s = format_numbers(v, k, spec_.digits);
    std::size_t at = 0;
    for (int j : cols)
      for (std::ptrdiff_t i = 0; i < nrow_; ++i) cell(i, j) = s[at++];
  }

  void other_columns() {
    for (std::ptrdiff_t j = 0; j < ncol_; ++j) {
      if (in(spec_.cs, j) || in(spec_.tst, j) || j == spec_.p_column) continue;
      std::vector<double> v;
      std::vector<std::int8_t> k;
      for (std::ptrdiff_t i = 0; i < nrow_; ++i) {
        v.push_back(value(i, j));
        k.push_back(kind(i, j));
      }
      const std::vector<std::string> s = format_numbers(v, k, spec_.digits);
      for (std::ptrdiff_t i = 0; i < nrow_; ++i) cell(i, j) = s[i];
    }
  }

  // Cells (not test statistics nor p-values) whose text reads 0 while the value is not, or
  // the reverse, formatted again together with digits - 1 (column-major, as R's Cf[okP]).
  void fix_zero_cells() {
    std::vector<std::pair<std::ptrdiff_t, std::ptrdiff_t>> fix;
    for (std::ptrdiff_t j = 0; j < ncol_; ++j) {
      if (j == spec_.p_column || in(spec_.tst, j)) continue;
      for (std::ptrdiff_t i = 0; i < nrow_; ++i) {
        double parsed = 0.0;
        if (missing(kind(i, j)) || !parse_number(cell(i, j), &parsed)) continue;
        if ((value(i, j) == 0.0) != (parsed == 0.0)) fix.emplace_back(i, j);
      }
    }
    if (fix.empty()) return;
    std::vector<double> v;
    std::vector<std::int8_t> k;
    for (const auto& [i, j] : fix) {
      v.push_back(value(i, j));
      k.push_back(kind(i, j));
    }
    const std::vector<std::string> s = format_numbers(v, k, std::max(1, spec_.digits - 1));
    for (std::size_t c = 0; c < fix.size(); ++c) cell(fix[c].first, fix[c].second) = s[c];
  }

  void missing_cells() {
    for (std::ptrdiff_t i = 0; i < nrow_; ++i)
      for (std::ptrdiff_t j = 0; j < ncol_; ++j)
        if (missing(kind(i, j))) cell(i, j) = kind(i, j) == kNaN ? "NaN" : spec_.na_print;
  }

  // The p column by format.pval; the stars (left-justified to their widest) appended as a
  // last column when some p < 0.1.
  void p_values() {
    const std::ptrdiff_t pc = spec_.p_column;
    if (pc < 0) return;
    std::vector<double> p;
    std::vector<std::ptrdiff_t> rows;
    bool below = false;
    for (std::ptrdiff_t i = 0; i < nrow_; ++i) {
      if (missing(kind(i, pc))) continue;
      p.push_back(value(i, pc));
      rows.push_back(i);
      below |= value(i, pc) < 0.1;
    }
    if (p.empty()) return;
    const std::vector<std::string> s =
        format_pval(p.data(), static_cast<std::ptrdiff_t>(p.size()), spec_.dig_tst, spec_.eps_p);
    for (std::size_t c = 0; c < rows.size(); ++c) cell(rows[c], pc) = s[c];
    out_.stars_shown = spec_.signif_stars && below;
    if (out_.stars_shown) add_stars();
  }

  void add_stars() {
    const std::ptrdiff_t pc = spec_.p_column;
    std::vector<std::string> stars(static_cast<std::size_t>(nrow_));
    std::size_t width = 0;
    for (std::ptrdiff_t i = 0; i < nrow_; ++i) {
      if (!missing(kind(i, pc))) stars[i] = signif_star(value(i, pc));
      width = std::max(width, stars[i].size());
    }
    std::vector<std::string> cells;
    cells.reserve(static_cast<std::size_t>(nrow_ * (ncol_ + 1)));
    for (std::ptrdiff_t i = 0; i < nrow_; ++i) {
      for (std::ptrdiff_t j = 0; j < ncol_; ++j) cells.push_back(std::move(cell(i, j)));
      stars[i].resize(width, ' ');
      cells.push_back(std::move(stars[i]));
    }
    out_.cells = std::move(cells);
    out_.ncol = ncol_ + 1;
  }

  const double* x_;
  const std::int8_t* kinds_;
  std::ptrdiff_t nrow_, ncol_;
  const CoefmatSpec& spec_;
  CoefmatCells out_;
};

}  // namespace

CoefmatCells coefmat_cells(const double* x, const std::int8_t* kinds, std::ptrdiff_t nrow,
                           std::ptrdiff_t ncol, const CoefmatSpec& spec) {
  return CoefmatWriter(x, kinds, nrow, ncol, spec).run();
}

std::vector<std::string> format_pval(const double* p, std::ptrdiff_t n, int digits, double eps) {
  std::vector<std::string> out(static_cast<std::size_t>(n));
  std::vector<double> groups[2];  // [0]: fixed notation, [1]: the rest
  std::vector<std::ptrdiff_t> where[2];
  bool any_small = false;
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    if (p[i] < eps) {
      any_small = true;
      continue;
    }
    const double e = std::floor(std::log10(p[i] > 0 ? p[i] : 1e-50));
    const int g = (e >= -3 || (e == -4 && digits > 1)) ? 0 : 1;
    groups[g].push_back(p[i]);
    where[g].push_back(i);
  }
  std::size_t widest = 0;
  bool any_big = false;
  for (int g = 0; g < 2; ++g) {
    if (groups[g].empty()) continue;
    any_big = true;
    std::vector<std::int8_t> k;
    for (double v : groups[g]) k.push_back(kind_of(v));
    const std::vector<std::string> s = format_numbers(groups[g], k, digits);
    for (std::size_t c = 0; c < s.size(); ++c) {
      out[where[g][c]] = s[c];
      widest = std::max(widest, s[c].size());
    }
  }
  if (!any_small) return out;
  int dg = std::max(1, digits - 2);
  std::string sep = dg == 1 ? "" : " ";
  if (any_big) {
    const int nc = static_cast<int>(widest);
    if (dg > 1 && dg + 6 > nc) dg = std::max(1, nc - 7);
    sep = (dg == 1 && nc <= 6) ? "" : " ";
  }
  const std::string text = "<" + sep + format_numbers({eps}, {kind_of(eps)}, dg)[0];
  for (std::ptrdiff_t i = 0; i < n; ++i)
    if (p[i] < eps) out[i] = text;
  return out;
}

}  // namespace rmodels
