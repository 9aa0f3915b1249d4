// The row store of a sparse model matrix (see design_rows.hpp).
#include "design_rows.hpp"

#include <cmath>

#include "big_alloc.hpp"

namespace rmodels {

double SparseRows::at(Eigen::Index i, int j) const {
  const Piece& pc = piece(i);
  const Eigen::Index li = i % kRowChunk;
  const auto b = pc.index.begin() + pc.start[li], e = pc.index.begin() + pc.start[li + 1];
  const auto it = std::lower_bound(b, e, static_cast<std::uint16_t>(j));
  return (it != e && *it == j) ? pc.value[static_cast<std::size_t>(it - pc.index.begin())] : 0.0;
}

void SparseRows::find_head() {
  std::vector<int> part(pieces.size(), p);
  for_tasks(static_cast<Eigen::Index>(pieces.size()), 1,
            [&](Eigen::Index k, Eigen::Index, Eigen::Index) {
              const Piece& pc = pieces[static_cast<std::size_t>(k)];
              int h = p;
              for (std::size_t r = 0; r + 1 < pc.start.size() && h > 0; ++r) {
                const std::uint32_t s0 = pc.start[r];
                const int c = static_cast<int>(pc.start[r + 1] - s0);
                int k2 = 0;
                while (k2 < std::min(c, h) && pc.index[s0 + k2] == k2) ++k2;
                h = k2;
              }
              part[static_cast<std::size_t>(k)] = h;
            });
  head = pieces.empty() ? 0 : *std::min_element(part.begin(), part.end());
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
  sd.find_head();
  return sd.nnz() <= kRowsMaxDensity * static_cast<double>(n) * p;
}

namespace {

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
  // A term that is one factor: the non-zeros of each level's coding row, once.
  struct LevelEntries {
    std::vector<std::uint32_t> start;
    std::vector<std::uint16_t> col;
    std::vector<double> value;
    bool finite = true;
  };
  std::vector<LevelEntries> level_entries(terms.size());
  for (std::size_t t = 0; t < terms.size(); ++t) {
    if (terms[t].comps.size() != 1 || terms[t].comps[0].kind != TermComponent::Kind::Factor)
      continue;
    const TermComponent& c = terms[t].comps[0];
    LevelEntries& le = level_entries[t];
    le.start.push_back(0);
    for (std::ptrdiff_t l = 0; l < c.levels; ++l) {
      for (std::ptrdiff_t j = 0; j < c.cols; ++j) {
        const double v = c.coding[l * c.crow_stride + j * c.ccol_stride];
        if (!std::isfinite(v)) le.finite = false;
        if (v != 0.0) {
          le.col.push_back(static_cast<std::uint16_t>(terms[t].col_offset + j));
          le.value.push_back(v);
        }
      }
      le.start.push_back(static_cast<std::uint32_t>(le.col.size()));
    }
    if (!le.finite) return false;
  }
  // Factors inside interactions: each level's non-zero coding entries (component columns).
  std::vector<std::vector<LevelEntries>> comp_entries(terms.size());
  for (std::size_t t = 0; t < terms.size(); ++t) {
    if (terms[t].comps.size() < 2) continue;
    comp_entries[t].resize(terms[t].comps.size());
    for (std::size_t k = 0; k < terms[t].comps.size(); ++k) {
      const TermComponent& c = terms[t].comps[k];
      if (c.kind != TermComponent::Kind::Factor) continue;
      LevelEntries& le = comp_entries[t][k];
      le.start.push_back(0);
      for (std::ptrdiff_t l = 0; l < c.levels; ++l) {
        for (std::ptrdiff_t j = 0; j < c.cols; ++j) {
          const double v = c.coding[l * c.crow_stride + j * c.ccol_stride];
          if (!std::isfinite(v)) return false;
          if (v != 0.0) {
            le.col.push_back(static_cast<std::uint16_t>(j));
            le.value.push_back(v);
          }
        }
        le.start.push_back(static_cast<std::uint32_t>(le.col.size()));
      }
    }
  }
  sd.n = n;
  sd.p = p;
  sd.pieces.assign((n + kRowChunk - 1) / kRowChunk, SparseRows::Piece());
  std::atomic<bool> finite{true};
  const auto per_row = static_cast<std::size_t>(bound);
  for_tasks(n, kRowChunk, [&](Eigen::Index task, Eigen::Index b, Eigen::Index e) {
    SparseRows::Piece& pc = sd.pieces[task];
    pc.start.resize(e - b + 1);
    // At most per_row entries a row: write through cursors, trim at the end.
    pc.index.resize(per_row * static_cast<std::size_t>(e - b));
    pc.value.resize(pc.index.size());
    std::uint16_t* ix = pc.index.data();
    double* vx = pc.value.data();
    std::uint32_t at = 0;
    std::vector<std::pair<std::ptrdiff_t, double>> cur, nxt;
    bool ok = true;
    for (Eigen::Index i = b; i < e && ok; ++i) {
      for (std::size_t t = 0; t < terms.size(); ++t) {
        const TermSpec& term = terms[t];
        const std::size_t m = term.comps.size();
        if (m == 0) {
          ix[at] = static_cast<std::uint16_t>(term.col_offset);
          vx[at++] = 1.0;
          continue;
        }
        const TermComponent& c0 = term.comps[0];
        if (m == 1 && c0.kind == TermComponent::Kind::Factor) {
          const std::int32_t code = c0.codes[i * c0.code_stride];
          if (code < 0) {
            ok = false;
            break;
          }
          const LevelEntries& le = level_entries[t];
          for (std::uint32_t a = le.start[code]; a < le.start[code + 1]; ++a) {
            ix[at] = le.col[a];
            vx[at++] = le.value[a];
          }
          continue;
        }
        if (m == 1) {
          for (std::ptrdiff_t j = 0; j < c0.cols; ++j) {
            const double v = c0.data[i * c0.row_stride + j * c0.col_stride];
            if (!std::isfinite(v)) ok = false;
            if (v != 0.0) {
              ix[at] = static_cast<std::uint16_t>(term.col_offset + j);
              vx[at++] = v;
            }
          }
          continue;
        }
        // An interaction: the entries as fill_term multiplies them, ((c1 c2) c3)..., first
        // component fastest; a zero factor makes a zero entry, which is not stored.
        // The non-zeros of component k at row i, columns ascending: f(j, value).
        auto nonzeros = [&](std::size_t k, auto&& f) {
          const TermComponent& ck = term.comps[k];
          if (ck.kind == TermComponent::Kind::Factor) {
            const std::int32_t code = ck.codes[i * ck.code_stride];
            if (code < 0) {
              ok = false;
              return;
            }
            const LevelEntries& le = comp_entries[t][k];
            for (std::uint32_t a = le.start[code]; a < le.start[code + 1]; ++a)
              f(static_cast<std::ptrdiff_t>(le.col[a]), le.value[a]);
            return;
          }
          for (std::ptrdiff_t j = 0; j < ck.cols; ++j) {
            const double v = ck.data[i * ck.row_stride + j * ck.col_stride];
            if (!std::isfinite(v)) ok = false;
            if (v != 0.0) f(j, v);
          }
        };
        cur.clear();
        nonzeros(0, [&](std::ptrdiff_t j, double v) { cur.emplace_back(j, v); });
        std::ptrdiff_t stride = c0.cols;
        for (std::size_t k = 1; k < m; ++k) {
          nxt.clear();
          nonzeros(k, [&](std::ptrdiff_t j, double v) {
            for (const auto& [idx, w] : cur) {
              const double prod = w * v;
              if (!std::isfinite(prod)) ok = false;
              if (prod != 0.0) nxt.emplace_back(idx + stride * j, prod);
            }
          });
          cur.swap(nxt);
          stride *= term.comps[k].cols;
        }
        for (const auto& [idx, w] : cur) {
          ix[at] = static_cast<std::uint16_t>(term.col_offset + idx);
          vx[at++] = w;
        }
      }
      pc.start[i - b + 1] = at;
    }
    pc.index.resize(at);
    pc.value.resize(at);
    if (!ok) finite = false;
  });
  if (!finite) return false;
  sd.find_head();
  return sd.nnz() <= kRowsMaxDensity * static_cast<double>(n) * p;
}

Eigen::VectorXd rows_matvec(const SparseRows& rows, const Eigen::Ref<const Eigen::VectorXd>& b) {
  Eigen::VectorXd out = big_vector(rows.n);
  for_tasks(rows.n, kRowChunk, [&](Eigen::Index, Eigen::Index lo, Eigen::Index hi) {
    const SparseRows::Piece& pc = rows.piece(lo);  // a task is one piece
    for (Eigen::Index i = lo; i < hi; ++i) {
      double s = 0.0;
      for (std::uint32_t a = pc.start[i - lo]; a < pc.start[i - lo + 1]; ++a) {
        const double bj = b[pc.index[a]];
        if (bj != 0.0) s += bj * pc.value[a];
      }
      out[i] = s;
    }
  });
  return out;
}

Eigen::VectorXd rows_hat(const SparseRows& rows, const Eigen::Ref<const Eigen::MatrixXd>& M,
                         const Eigen::Ref<const Eigen::VectorXd>& w) {
  Eigen::VectorXd h = big_vector(rows.n);
  for_tasks(rows.n, kRowChunk, [&](Eigen::Index, Eigen::Index b, Eigen::Index e) {
    const SparseRows::Piece& pc = rows.piece(b);  // a task is one piece
    for (Eigen::Index i = b; i < e; ++i) {
      if (w[i] == 0) {
        h[i] = 0.0;
        continue;
      }
      const Eigen::Index li = i - b;
      const std::uint32_t s0 = pc.start[li], s1 = pc.start[li + 1];
      double s = 0.0;
      for (std::uint32_t a = s0; a < s1; ++a) {
        const double xa = pc.value[a];
        double t = 0.0;
        for (std::uint32_t c = s0; c < s1; ++c) t += M(pc.index[a], pc.index[c]) * pc.value[c];
        s += xa * t;
      }
      h[i] = w[i] * s;
    }
  });
  return h;
}

Eigen::MatrixXd rows_dense(const SparseRows& rows) {
  Eigen::MatrixXd X = Eigen::MatrixXd::Zero(rows.n, rows.p);
  for (Eigen::Index i = 0; i < rows.n; ++i) {
    const SparseRows::Piece& pc = rows.piece(i);
    const Eigen::Index li = i % kRowChunk;
    for (std::uint32_t a = pc.start[li]; a < pc.start[li + 1]; ++a) X(i, pc.index[a]) = pc.value[a];
  }
  return X;
}

}  // namespace rmodels
