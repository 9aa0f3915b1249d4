// The row store of a sparse model matrix (see design_rows.hpp).
#include "design_rows.hpp"

#include <cmath>

namespace rmodels {

double SparseRows::at(Eigen::Index i, int j) const {
  const Piece& pc = piece(i);
  const Eigen::Index li = i % kRowChunk;
  const auto b = pc.index.begin() + pc.start[li], e = pc.index.begin() + pc.start[li + 1];
  const auto it = std::lower_bound(b, e, static_cast<std::uint16_t>(j));
  return (it != e && *it == j) ? pc.value[static_cast<std::size_t>(it - pc.index.begin())] : 0.0;
}

bool rows_shape_ok(Eigen::Index n, Eigen::Index p) {
  return p > 0 && p <= 600 && n >= 4 * p + 16 && static_cast<double>(n) * p >= 2e5;
}

bool sparse_rows(const Eigen::Ref<const Eigen::MatrixXd>& X, SparseRows& sd) {
  constexpr Eigen::Index kBlockRows = 512;
  const Eigen::Index n = X.rows();
  const int p = static_cast<int>(X.cols());
  if (!rows_shape_ok(n, p)) return false;
  {  // cheap density estimate on the first rows
    const Eigen::Index s = std::min<Eigen::Index>(n, 20000);
    Eigen::Index nz = 0;
    for (int j = 0; j < p; ++j) nz += (X.col(j).head(s).array() != 0.0).count();
    if (static_cast<double>(nz) > kRowsMaxDensity * static_cast<double>(s) * p) return false;
  }
  sd.n = n;
  sd.p = p;
  sd.pieces.assign((n + kRowChunk - 1) / kRowChunk, SparseRows::Piece());
  std::atomic<bool> finite{true};
  // One pass over X: each block of rows is counted, then gathered while it is still in cache.
  for_tasks(n, kRowChunk, [&](Eigen::Index task, Eigen::Index b, Eigen::Index e) {
    SparseRows::Piece& pc = sd.pieces[task];
    pc.start.reserve(e - b + 1);
    std::uint32_t cnt[kBlockRows];
    double bad = 0.0;
    for (Eigen::Index r0 = b; r0 < e; r0 += kBlockRows) {
      const Eigen::Index len = std::min(kBlockRows, e - r0);
      std::fill(cnt, cnt + len, 0u);
      for (int j = 0; j < p; ++j) {
        const double* col = X.col(j).data() + r0;
        for (Eigen::Index i = 0; i < len; ++i) {
          bad += col[i] * 0.0;
          cnt[i] += col[i] != 0.0;
        }
      }
      std::uint32_t pos = pc.start.back();
      for (Eigen::Index i = 0; i < len; ++i) {
        const std::uint32_t c = cnt[i];
        cnt[i] = pos;  // cursor of row i
        pos += c;
        pc.start.push_back(pos);
      }
      pc.index.resize(pos);
      pc.value.resize(pos);
      for (int j = 0; j < p; ++j) {
        const double* col = X.col(j).data() + r0;
        for (Eigen::Index i = 0; i < len; ++i)
          if (col[i] != 0.0) {
            const std::uint32_t at = cnt[i]++;
            pc.index[at] = static_cast<std::uint16_t>(j);
            pc.value[at] = col[i];
          }
      }
    }
    if (bad != 0.0 || std::isnan(bad)) finite = false;
  });
  if (!finite) return false;
  return sd.nnz() <= kRowsMaxDensity * static_cast<double>(n) * p;
}

namespace {

// Value of a component at row i, column j (NaN for a missing factor code).
inline double component_value(const TermComponent& c, std::ptrdiff_t i, std::ptrdiff_t j) {
  if (c.kind == TermComponent::Kind::Numeric) return c.data[i * c.row_stride + j * c.col_stride];
  const std::int32_t code = c.codes[i * c.code_stride];
  return code < 0 ? NAN : c.coding[code * c.crow_stride + j * c.ccol_stride];
}

// Most non-zeros a row of the component can have.
std::ptrdiff_t max_row_nonzeros(const TermComponent& c) {
  if (c.kind == TermComponent::Kind::Numeric) return c.cols;
  std::ptrdiff_t most = 0;
  for (std::ptrdiff_t l = 0; l < c.levels; ++l) {
    std::ptrdiff_t k = 0;
    for (std::ptrdiff_t j = 0; j < c.cols; ++j)
      k += c.coding[l * c.crow_stride + j * c.ccol_stride] != 0.0;
    most = std::max(most, k);
  }
  return most;
}

}  // namespace

bool sparse_rows_from_terms(std::ptrdiff_t n, int p, const std::vector<TermSpec>& terms,
                            SparseRows& sd) {
  if (!rows_shape_ok(n, p)) return false;
  double bound = 0;  // most non-zeros in a row
  for (const auto& t : terms) {
    double k = 1;
    for (const auto& c : t.comps) k *= static_cast<double>(max_row_nonzeros(c));
    bound += k;
  }
  if (bound > kRowsMaxDensity * p) return false;
  sd.n = n;
  sd.p = p;
  sd.pieces.assign((n + kRowChunk - 1) / kRowChunk, SparseRows::Piece());
  std::atomic<bool> finite{true};
  for_tasks(n, kRowChunk, [&](Eigen::Index task, Eigen::Index b, Eigen::Index e) {
    SparseRows::Piece& pc = sd.pieces[task];
    pc.start.reserve(e - b + 1);
    const auto guess = static_cast<std::size_t>(bound * static_cast<double>(e - b));
    pc.index.reserve(guess);
    pc.value.reserve(guess);
    std::vector<std::pair<std::ptrdiff_t, double>> cur, nxt;
    bool ok = true;
    for (Eigen::Index i = b; i < e && ok; ++i) {
      for (const auto& t : terms) {
        if (t.comps.empty()) {
          pc.index.push_back(static_cast<std::uint16_t>(t.col_offset));
          pc.value.push_back(1.0);
          continue;
        }
        // The term's entries as fill_term multiplies them, ((c1 c2) c3)..., first component
        // fastest; a zero factor makes a zero entry, which is not stored.
        cur.clear();
        const TermComponent& c0 = t.comps[0];
        for (std::ptrdiff_t j = 0; j < c0.cols; ++j) {
          const double v = component_value(c0, i, j);
          if (!std::isfinite(v)) ok = false;
          if (v != 0.0) cur.emplace_back(j, v);
        }
        std::ptrdiff_t stride = c0.cols;
        for (std::size_t k = 1; k < t.comps.size(); ++k) {
          const TermComponent& ck = t.comps[k];
          nxt.clear();
          for (std::ptrdiff_t j = 0; j < ck.cols; ++j) {
            const double v = component_value(ck, i, j);
            if (!std::isfinite(v)) ok = false;
            if (v == 0.0) continue;
            for (const auto& [idx, w] : cur) {
              const double prod = w * v;
              if (!std::isfinite(prod)) ok = false;
              if (prod != 0.0) nxt.emplace_back(idx + stride * j, prod);
            }
          }
          cur.swap(nxt);
          stride *= ck.cols;
        }
        for (const auto& [idx, w] : cur) {
          pc.index.push_back(static_cast<std::uint16_t>(t.col_offset + idx));
          pc.value.push_back(w);
        }
      }
      pc.start.push_back(static_cast<std::uint32_t>(pc.index.size()));
    }
    if (!ok) finite = false;
  });
  if (!finite) return false;
  return sd.nnz() <= kRowsMaxDensity * static_cast<double>(n) * p;
}

}  // namespace rmodels
