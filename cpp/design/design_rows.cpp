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

// Most non-zeros in a row of the model matrix of `terms`.
double row_nonzero_bound(const std::vector<TermSpec>& terms) {
  double bound = 0;
  for (const auto& t : terms) {
    double k = 1;
    for (const auto& c : t.comps) k *= static_cast<double>(max_row_nonzeros(c));
    bound += k;
  }
  return bound;
}

// The non-zero entries of each level's coding row of a factor: level l's are
// [start[l], start[l + 1]) of col (column numbers) and value.
struct LevelEntries {
  std::vector<std::uint32_t> start;
  std::vector<std::uint16_t> col;
  std::vector<double> value;
};

// The level entries of factor component c, its columns numbered from col_offset; false when a
// coding entry is not finite.
bool level_entries_of(const TermComponent& c, std::ptrdiff_t col_offset, LevelEntries& le) {
  le.start.assign(1, 0);
  for (std::ptrdiff_t l = 0; l < c.levels; ++l) {
    for (std::ptrdiff_t j = 0; j < c.cols; ++j) {
      const double v = c.coding[l * c.crow_stride + j * c.ccol_stride];
      if (!std::isfinite(v)) return false;
      if (v != 0.0) {
        le.col.push_back(static_cast<std::uint16_t>(col_offset + j));
        le.value.push_back(v);
      }
    }
    le.start.push_back(static_cast<std::uint32_t>(le.col.size()));
  }
  return true;
}

// The coding entries a term's factors need: for a term that is one factor, its levels' entries
// in model-matrix columns (single); for an interaction, each factor component's entries in the
// component's own columns (comps, empty for numeric components).
struct TermEntries {
  LevelEntries single;
  std::vector<LevelEntries> comps;
};

// The entries of every term; false when a coding entry is not finite.
bool term_entries(const std::vector<TermSpec>& terms, std::vector<TermEntries>& out) {
  out.assign(terms.size(), TermEntries());
  for (std::size_t t = 0; t < terms.size(); ++t) {
    const auto& comps = terms[t].comps;
    if (comps.size() == 1 && comps[0].kind == TermComponent::Kind::Factor) {
      if (!level_entries_of(comps[0], terms[t].col_offset, out[t].single)) return false;
    } else if (comps.size() >= 2) {
      out[t].comps.resize(comps.size());
      for (std::size_t k = 0; k < comps.size(); ++k)
        if (comps[k].kind == TermComponent::Kind::Factor &&
            !level_entries_of(comps[k], 0, out[t].comps[k]))
          return false;
    }
  }
  return true;
}

// Writes the non-zero entries of model-matrix rows, term by term, through cursors into
// index/value buffers sized by row_nonzero_bound; each entry the product fill_term computes.
class RowWriter {
 public:
  RowWriter(const std::vector<TermSpec>& terms, const std::vector<TermEntries>& entries,
            std::uint16_t* index, double* value)
      : terms_(terms), entries_(entries), ix_(index), vx_(value) {}

  // The entries of row i; false when one is not finite or a factor code is missing.
  bool write_row(Eigen::Index i) {
    for (std::size_t t = 0; t < terms_.size(); ++t) {
      const TermSpec& term = terms_[t];
      const std::size_t m = term.comps.size();
      bool ok = true;
      if (m == 0)
        put(term.col_offset, 1.0);
      else if (m == 1 && term.comps[0].kind == TermComponent::Kind::Factor)
        ok = write_levels(entries_[t].single, term.comps[0], i, 0);
      else if (m == 1)
        ok = write_numeric(term.comps[0], i, term.col_offset);
      else
        ok = write_interaction(term, entries_[t], i);
      if (!ok) return false;
    }
    return true;
  }

  std::uint32_t count() const { return at_; }

 private:
  void put(std::ptrdiff_t col, double v) {
    ix_[at_] = static_cast<std::uint16_t>(col);
    vx_[at_++] = v;
  }

  // A factor's coding entries at row i's level (columns shifted by `shift`).
  bool write_levels(const LevelEntries& le, const TermComponent& c, Eigen::Index i,
                    std::ptrdiff_t shift) {
    const std::int32_t code = c.codes[i * c.code_stride];
    if (code < 0) return false;
    for (std::uint32_t a = le.start[code]; a < le.start[code + 1]; ++a)
      put(shift + le.col[a], le.value[a]);
    return true;
  }

  // The non-zeros of a numeric component at row i.
  bool write_numeric(const TermComponent& c, Eigen::Index i, std::ptrdiff_t col_offset) {
    bool ok = true;
    for (std::ptrdiff_t j = 0; j < c.cols; ++j) {
      const double v = c.data[i * c.row_stride + j * c.col_stride];
      if (!std::isfinite(v)) ok = false;
      if (v != 0.0) put(col_offset + j, v);
    }
    return ok;
  }

  // The non-zeros of component c at row i, columns ascending: f(column, value); false when a
  // value is not finite or the factor code is missing.
  template <class F>
  static bool component_nonzeros(const TermComponent& c, const LevelEntries& le, Eigen::Index i,
                                 F&& f) {
    if (c.kind == TermComponent::Kind::Factor) {
      const std::int32_t code = c.codes[i * c.code_stride];
      if (code < 0) return false;
      for (std::uint32_t a = le.start[code]; a < le.start[code + 1]; ++a)
        f(static_cast<std::ptrdiff_t>(le.col[a]), le.value[a]);
      return true;
    }
    bool ok = true;
    for (std::ptrdiff_t j = 0; j < c.cols; ++j) {
      const double v = c.data[i * c.row_stride + j * c.col_stride];
      if (!std::isfinite(v)) ok = false;
      if (v != 0.0) f(j, v);
    }
    return ok;
  }

  // An interaction's entries as fill_term multiplies them, ((c1 c2) c3)..., the first
  // component fastest; a zero factor makes a zero entry, which is not stored.
  bool write_interaction(const TermSpec& term, const TermEntries& te, Eigen::Index i) {
    cur_.clear();
    bool ok = component_nonzeros(term.comps[0], te.comps[0], i,
                                 [&](std::ptrdiff_t j, double v) { cur_.emplace_back(j, v); });
    std::ptrdiff_t stride = term.comps[0].cols;
    for (std::size_t k = 1; k < term.comps.size() && ok; ++k) {
      nxt_.clear();
      auto times_current = [&](std::ptrdiff_t j, double v) {
        for (const auto& [idx, w] : cur_) {
          const double prod = w * v;
          if (!std::isfinite(prod)) ok = false;
          if (prod != 0.0) nxt_.emplace_back(idx + stride * j, prod);
        }
      };
      ok = component_nonzeros(term.comps[k], te.comps[k], i, times_current) && ok;
      cur_.swap(nxt_);
      stride *= term.comps[k].cols;
    }
    for (const auto& [idx, w] : cur_) put(term.col_offset + idx, w);
    return ok;
  }

  const std::vector<TermSpec>& terms_;
  const std::vector<TermEntries>& entries_;
  std::uint16_t* ix_;
  double* vx_;
  std::uint32_t at_ = 0;
  std::vector<std::pair<std::ptrdiff_t, double>> cur_, nxt_;
};

// The rows [b, e) of the model matrix into piece pc (at most per_row entries a row); false
// when an entry is not finite or a factor code is missing.
bool fill_piece(const std::vector<TermSpec>& terms, const std::vector<TermEntries>& entries,
                std::size_t per_row, Eigen::Index b, Eigen::Index e, SparseRows::Piece& pc) {
  pc.start.assign(static_cast<std::size_t>(e - b + 1), 0);
  pc.index.resize(per_row * static_cast<std::size_t>(e - b));
  pc.value.resize(pc.index.size());
  RowWriter writer(terms, entries, pc.index.data(), pc.value.data());
  bool ok = true;
  for (Eigen::Index i = b; i < e && ok; ++i) {
    ok = writer.write_row(i);
    pc.start[static_cast<std::size_t>(i - b + 1)] = writer.count();
  }
  pc.index.resize(writer.count());
  pc.value.resize(writer.count());
  return ok;
}

}  // namespace

bool sparse_rows_from_terms(std::ptrdiff_t n, int p, const std::vector<TermSpec>& terms,
                            SparseRows& sd) {
  if (!rows_shape_ok(n, p)) return false;
  const double bound = row_nonzero_bound(terms);
  if (bound > kRowsMaxDensity * p) return false;
  std::vector<TermEntries> entries;
  if (!term_entries(terms, entries)) return false;
  sd.n = n;
  sd.p = p;
  sd.pieces.assign((n + kRowChunk - 1) / kRowChunk, SparseRows::Piece());
  std::atomic<bool> finite{true};
  const auto per_row = static_cast<std::size_t>(bound);
  for_tasks(n, kRowChunk, [&](Eigen::Index task, Eigen::Index b, Eigen::Index e) {
    if (!fill_piece(terms, entries, per_row, b, e, sd.pieces[task])) finite = false;
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
