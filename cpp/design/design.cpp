// Design-matrix kernel (see design.hpp): R's model.matrix builds an interaction term's columns
// by multiplying the columns of its variables, the first variable varying fastest; this file
// does the same product row block by row block, on several threads for large n.
#include "design.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>

#include "hardware.hpp"

namespace rmodels {

namespace {

constexpr std::ptrdiff_t kBlockRows = 2048;            // rows per work unit (fits in L1/L2)
constexpr std::ptrdiff_t kMinWorkPerThread = 1 << 17;  // entries; below this one thread

// out[r] (= or *=) component value at rows [r0, r1), column j.
template <bool First>
void apply_component(const TermComponent& c, std::ptrdiff_t j, std::ptrdiff_t r0, std::ptrdiff_t r1,
                     double* out) {
  if (c.kind == TermComponent::Kind::Numeric) {
    const double* col = c.data + j * c.col_stride;
    if (c.row_stride == 1) {
      for (std::ptrdiff_t i = r0; i < r1; ++i) {
        if (First)
          out[i] = col[i];
        else
          out[i] *= col[i];
      }
    } else {
      for (std::ptrdiff_t i = r0; i < r1; ++i) {
        const double v = col[i * c.row_stride];
        if (First)
          out[i] = v;
        else
          out[i] *= v;
      }
    }
    return;
  }
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double* ccol = c.coding + j * c.ccol_stride;
  for (std::ptrdiff_t i = r0; i < r1; ++i) {
    const std::int32_t code = c.codes[i * c.code_stride];
    const double v = code < 0 ? nan : ccol[code * c.crow_stride];
    if (First)
      out[i] = v;
    else
      out[i] *= v;
  }
}

void fill_rows(const DesignOut& out, std::ptrdiff_t col_offset,
               const std::vector<TermComponent>& comps, std::ptrdiff_t width, std::ptrdiff_t r0,
               std::ptrdiff_t r1) {
  const std::size_t m = comps.size();
  std::vector<std::ptrdiff_t> idx(m, 0);  // mixed-radix column index, first component fastest
  for (std::ptrdiff_t c = 0; c < width; ++c) {
    double* col = out.data + (col_offset + c) * out.ld;
    if (m == 0) {
      std::fill(col + r0, col + r1, 1.0);
    } else {
      apply_component<true>(comps[0], idx[0], r0, r1, col);
      for (std::size_t k = 1; k < m; ++k) apply_component<false>(comps[k], idx[k], r0, r1, col);
      for (std::size_t k = 0; k < m; ++k) {  // advance the index
        if (++idx[k] < comps[k].cols) break;
        idx[k] = 0;
      }
    }
  }
}

// Indicator-coded factors (treatment, SAS, full dummies: each coding row is all zero or one
// 1) let a term be written sparsely: zero the block, then one entry per row. `col_of[l]` is the
// column of level l's 1, or -1 for an all-zero row. Empty when the coding is not of this form.
std::vector<std::ptrdiff_t> indicator_columns(const TermComponent& c) {
  std::vector<std::ptrdiff_t> col_of(static_cast<std::size_t>(c.levels), -1);
  for (std::ptrdiff_t l = 0; l < c.levels; ++l) {
    for (std::ptrdiff_t j = 0; j < c.cols; ++j) {
      const double v = c.coding[l * c.crow_stride + j * c.ccol_stride];
      if (v == 0.0) continue;
      if (v != 1.0 || col_of[static_cast<std::size_t>(l)] != -1) return {};
      col_of[static_cast<std::size_t>(l)] = j;
    }
  }
  return col_of;
}

struct SparsePlan {
  bool usable = false;
  std::vector<std::vector<std::ptrdiff_t>> col_of;  // per component (empty for numeric)
  std::vector<std::ptrdiff_t> stride;               // column stride of each component
};

SparsePlan sparse_plan(const std::vector<TermComponent>& comps) {
  SparsePlan plan;
  bool any_factor = false;
  std::ptrdiff_t stride = 1;
  for (const auto& c : comps) {
    plan.stride.push_back(stride);
    if (c.kind == TermComponent::Kind::Numeric) {
      if (c.cols != 1) return {};
      plan.col_of.emplace_back();
    } else {
      auto cols = indicator_columns(c);
      if (cols.empty()) return {};
      plan.col_of.push_back(std::move(cols));
      any_factor = true;
    }
    stride *= c.cols;
  }
  plan.usable = any_factor;
  return plan;
}

// The sparse form of fill_rows: identical values (products with 1.0 are exact, and rows whose
// numeric values are not finite or whose codes are missing take the general path).
void fill_rows_sparse(const DesignOut& out, std::ptrdiff_t col_offset,
                      const std::vector<TermComponent>& comps, const SparsePlan& plan,
                      std::ptrdiff_t width, std::ptrdiff_t r0, std::ptrdiff_t r1) {
  for (std::ptrdiff_t c = 0; c < width; ++c) {
    double* col = out.data + (col_offset + c) * out.ld;
    std::fill(col + r0, col + r1, 0.0);
  }
  const std::size_t m = comps.size();
  for (std::ptrdiff_t i = r0; i < r1; ++i) {
    std::ptrdiff_t col = 0;
    double value = 1.0;
    bool first = true, general = false, zero_row = false;
    for (std::size_t k = 0; k < m; ++k) {
      const TermComponent& c = comps[k];
      if (c.kind == TermComponent::Kind::Numeric) {
        const double v = c.data[i * c.row_stride];
        if (!std::isfinite(v)) {
          general = true;
          break;
        }
        value = first ? v : value * v;
        first = false;
      } else {
        const std::int32_t code = c.codes[i * c.code_stride];
        if (code < 0) {
          general = true;
          break;
        }
        const std::ptrdiff_t j = plan.col_of[k][static_cast<std::size_t>(code)];
        if (j < 0) zero_row = true;
        col += j * plan.stride[k];
        first = false;
      }
    }
    if (general) {
      fill_rows(out, col_offset, comps, width, i, i + 1);
    } else if (!zero_row) {
      out.data[(col_offset + col) * out.ld + i] = value;
    }
  }
}

}  // namespace

std::ptrdiff_t term_width(const std::vector<TermComponent>& comps) {
  std::ptrdiff_t w = 1;
  for (const auto& c : comps) w *= c.cols;
  return w;
}

void check_factor_codes(const TermComponent& comp, std::ptrdiff_t n) {
  if (comp.kind != TermComponent::Kind::Factor) return;
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    const std::int32_t code = comp.codes[i * comp.code_stride];
    if (code < -1 || code >= comp.levels)
      throw std::invalid_argument("factor code " + std::to_string(code) + " at row " +
                                  std::to_string(i) + " is outside [-1, " +
                                  std::to_string(comp.levels) + ")");
  }
}

std::ptrdiff_t fill_term(const DesignOut& out, std::ptrdiff_t col_offset,
                         const std::vector<TermComponent>& comps, int threads) {
  const std::ptrdiff_t n = out.rows;
  const std::ptrdiff_t width = term_width(comps);
  if (col_offset < 0 || col_offset + width > out.cols)
    throw std::invalid_argument(
        "term columns [" + std::to_string(col_offset) + ", " + std::to_string(col_offset + width) +
        ") do not fit in the output's " + std::to_string(out.cols) + " columns");
  for (const auto& c : comps) check_factor_codes(c, n);
  if (n == 0 || width == 0) return width;

  const std::ptrdiff_t nblocks = (n + kBlockRows - 1) / kBlockRows;
  const std::ptrdiff_t hw = std::max(1u, hardware_threads());
  std::ptrdiff_t nthreads = threads;
  if (nthreads <= 0) nthreads = std::max<std::ptrdiff_t>(1, n * width / kMinWorkPerThread);
  nthreads = std::max<std::ptrdiff_t>(1, std::min({nthreads, hw, nblocks}));
  const SparsePlan plan = sparse_plan(comps);
  auto run = [&](std::ptrdiff_t r0, std::ptrdiff_t r1) {
    for (std::ptrdiff_t s = r0; s < r1; s += kBlockRows) {
      const std::ptrdiff_t e = std::min(r1, s + kBlockRows);
      if (plan.usable)
        fill_rows_sparse(out, col_offset, comps, plan, width, s, e);
      else
        fill_rows(out, col_offset, comps, width, s, e);
    }
  };
  if (nthreads == 1) {
    run(0, n);
    return width;
  }
  // Contiguous ranges of whole blocks per thread; each entry is computed identically.
  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(nthreads));
  for (std::ptrdiff_t t = 0; t < nthreads; ++t) {
    const std::ptrdiff_t b0 = nblocks * t / nthreads, b1 = nblocks * (t + 1) / nthreads;
    const std::ptrdiff_t r0 = b0 * kBlockRows, r1 = std::min(n, b1 * kBlockRows);
    pool.emplace_back(run, r0, r1);
  }
  for (auto& th : pool) th.join();
  return width;
}

void match_levels(const double* values, std::ptrdiff_t n, std::ptrdiff_t stride,
                  const double* levels, std::ptrdiff_t nlevels, std::int32_t* codes_out) {
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    const double v = values[i * stride];
    if (std::isnan(v)) {
      codes_out[i] = -1;
      continue;
    }
    const double* pos = std::lower_bound(levels, levels + nlevels, v);
    codes_out[i] =
        (pos != levels + nlevels && *pos == v) ? static_cast<std::int32_t>(pos - levels) : -2;
  }
}

}  // namespace rmodels
