// The cross products of the blocked PLS path (lmer.hpp): Z_1'WZ_1 by level, the dense block
// (Z_2..Z_K)'W(Z_2..Z_K), the block-sparse columns Z_r'WZ_1 and [X y]'s rows against them, plus
// what the factorisation precomputes from their theta-independent structure: the gather of
// L21's entries by column of L22 and, for a large scalar rest block, a fill-reducing order
// with its tile-level symbolic factor.
#include <algorithm>
#include <utility>

#include "lmer.hpp"

namespace rmodels {
namespace lmer {

namespace {
// The rest block gets a fill-reducing order and a tiled factorisation when it has at least
// kTileMinRest columns and the tiles to compute are at most kTileWorthIt of all tiles' work.
constexpr int kTileMinRest = 256;
constexpr int kTile = 32;
constexpr double kTileWorthIt = 0.85;
}  // namespace

void PlsModel::build_cross_products() {
  build_term1_products();
  if (K_ == 1) return;
  A22_ = MatrixXd::Zero(qr_, qr_);
  A32_ = MatrixXd::Zero(p_ + 1, qr_);
  for (int t = 1; t < K_; ++t) rest_scalar_ = rest_scalar_ && terms_[t].k == 1;
  if (rest_scalar_)
    build_rest_products_scalar();
  else
    build_rest_products_vector();
  build_level_columns();
  if (terms_[0].k == 1 && rest_scalar_ && qr_ >= kTileMinRest) build_ordering();
  if (terms_[0].k == 1) build_gather();
  rest_theta_.resize(qr_);
  rest_theta_p_.resize(qr_);
}

// A11_ (Z_1'WZ_1, k1 x k1 per level), A31_ ([X y]'WZ_1) and A33_ ([X y]'W[X y]).
void PlsModel::build_term1_products() {
  const Term& t1 = terms_[0];
  const int k1 = t1.k, p1 = p_ + 1;
  A11_ = MatrixXd::Zero(k1, q1_);
  A31_ = MatrixXd::Zero(p1, q1_);
  if (k1 == 1) {
    for (int i = 0; i < n_; ++i) A11_(0, t1.codes[i]) += t1.z(i, 0) * t1.z(i, 0);
    for (int c = 0; c < p1; ++c) {
      const double* x = Xy_.col(c).data();
      for (int i = 0; i < n_; ++i) A31_(c, t1.codes[i]) += x[i] * t1.z(i, 0);
    }
  } else {
    for (int i = 0; i < n_; ++i) {
      const int c = t1.codes[i] * k1;
      A11_.middleCols(c, k1).noalias() += t1.z.row(i).transpose() * t1.z.row(i);
      A31_.middleCols(c, k1).noalias() += Xy_.row(i).transpose() * t1.z.row(i);
    }
  }
  A33_ = MatrixXd::Zero(p1, p1);
  A33_.selfadjointView<Eigen::Lower>().rankUpdate(Xy_.transpose());
  A33_ = A33_.selfadjointView<Eigen::Lower>();
}

// Scalar rest terms: one entry per pair of terms and observation; A32 by a scatter of X'
// (accumulated in small buffers: scattered additions into the large A22 miss the cache).
void PlsModel::build_rest_products_scalar() {
  const int p1 = p_ + 1;
  for (int t = 1; t < K_; ++t) {
    const Term& a = terms_[t];
    VectorXd d = VectorXd::Zero(a.nlev);
    for (int i = 0; i < n_; ++i) d[a.codes[i]] += a.z(i, 0) * a.z(i, 0);
    for (int l = 0; l < a.nlev; ++l) A22_(a.offset + l, a.offset + l) = d[l];
    for (int s = t + 1; s < K_; ++s) {
      const Term& b = terms_[s];
      const bool small = static_cast<double>(a.nlev) * b.nlev <= 4.0e6;
      MatrixXd B = small ? MatrixXd::Zero(a.nlev, b.nlev) : MatrixXd();
      for (int i = 0; i < n_; ++i) {
        const double v = a.z(i, 0) * b.z(i, 0);
        if (small)
          B(a.codes[i], b.codes[i]) += v;
        else
          A22_(a.offset + a.codes[i], b.offset + b.codes[i]) += v;
      }
      if (small) A22_.block(a.offset, b.offset, a.nlev, b.nlev) = B;
      A22_.block(b.offset, a.offset, b.nlev, a.nlev) =
          A22_.block(a.offset, b.offset, a.nlev, b.nlev).transpose();
    }
    for (int c = 0; c < p1; ++c) {
      const double* x = Xy_.col(c).data();
      for (int i = 0; i < n_; ++i) A32_(c, a.offset + a.codes[i]) += x[i] * a.z(i, 0);
    }
  }
}

// Vector-valued rest terms: A22_ and A32_ by k x k blocks, observation by observation.
void PlsModel::build_rest_products_vector() {
  for (int i = 0; i < n_; ++i) {
    for (int t = 1; t < K_; ++t) {
      const Term& a = terms_[t];
      const int ra = a.offset + a.codes[i] * a.k;
      A32_.middleCols(ra, a.k).noalias() += Xy_.row(i).transpose() * a.z.row(i);
      for (int s = 1; s < K_; ++s) {
        const Term& b = terms_[s];
        const int rb = b.offset + b.codes[i] * b.k;
        A22_.block(ra, rb, a.k, b.k).noalias() += a.z.row(i).transpose() * b.z.row(i);
      }
    }
  }
}

// A21_: Z_r'WZ_1 by level of term 1; the rows touched are whole level blocks of the rest terms.
void PlsModel::build_level_columns() {
  const Term& t1 = terms_[0];
  const int k1 = t1.k;
  std::vector<std::vector<int>> obs_of(t1.nlev);
  for (int i = 0; i < n_; ++i) obs_of[t1.codes[i]].push_back(i);
  A21_.assign(t1.nlev, BlockCol());
  std::vector<int> starts;
  for (int j = 0; j < t1.nlev; ++j) {
    starts.clear();
    for (int i : obs_of[j])
      for (int t = 1; t < K_; ++t)
        starts.push_back(terms_[t].offset + terms_[t].codes[i] * terms_[t].k);
    std::sort(starts.begin(), starts.end());
    starts.erase(std::unique(starts.begin(), starts.end()), starts.end());
    BlockCol& bc = A21_[j];
    std::vector<int> pos_of_start(starts.size());
    for (size_t s = 0; s < starts.size(); ++s) {
      pos_of_start[s] = static_cast<int>(bc.rows.size());
      const int kt = terms_[rest_term_of_[starts[s]]].k;
      for (int r = 0; r < kt; ++r) bc.rows.push_back(starts[s] + r);
    }
    bc.A = MatrixXd::Zero(static_cast<Eigen::Index>(bc.rows.size()), k1);
    for (int i : obs_of[j]) {
      for (int t = 1; t < K_; ++t) {
        const Term& a = terms_[t];
        const int st = a.offset + a.codes[i] * a.k;
        const auto it = std::lower_bound(starts.begin(), starts.end(), st);
        const int pos = pos_of_start[it - starts.begin()];
        bc.A.block(pos, 0, a.k, k1).noalias() += a.z.row(i).transpose() * t1.z.row(i);
      }
    }
    bc.L = bc.A;
    if (k1 > 1) {
      const std::ptrdiff_t ld = qr_;
      for (size_t b = 0; b < bc.rows.size(); ++b)
        for (size_t a = b; a < bc.rows.size(); ++a)
          bc.lower_idx.push_back(static_cast<std::ptrdiff_t>(bc.rows[b]) * ld + bc.rows[a]);
    }
  }
}

// L21's entries gathered by column of L22 (scalar term 1): col_updates_ lists, for column c,
// the levels j whose rows include c (see lmer.hpp's ColumnUpdate).
void PlsModel::build_gather() {
  l21_offset_.assign(A21_.size() + 1, 0);
  l21_rows_.clear();
  l21_src_.clear();
  std::vector<int> count(qr_ + 1, 0), ord;
  for (size_t j = 0; j < A21_.size(); ++j) {
    const std::vector<int>& rows = A21_[j].rows;
    const int m = static_cast<int>(rows.size());
    l21_offset_[j + 1] = l21_offset_[j] + m;
    // rows in L22_ order, so that "a >= b" below means the lower triangle of L22_
    ord.resize(m);
    for (int a = 0; a < m; ++a) ord[a] = a;
    std::sort(ord.begin(), ord.end(), [&](int x, int y) { return rp(rows[x]) < rp(rows[y]); });
    for (int a = 0; a < m; ++a) {
      l21_rows_.push_back(rp(rows[ord[a]]));
      l21_src_.push_back(ord[a]);
      ++count[rp(rows[ord[a]]) + 1];
    }
  }
  col_ptr_.assign(qr_ + 1, 0);
  for (int c = 0; c < qr_; ++c) col_ptr_[c + 1] = col_ptr_[c] + count[c + 1];
  col_updates_.assign(col_ptr_[qr_], ColumnUpdate{0, 0, 0});
  std::vector<int> fill(col_ptr_.begin(), col_ptr_.end() - 1);
  for (size_t j = 0; j < A21_.size(); ++j) {
    const int off = l21_offset_[j], m = l21_offset_[j + 1] - off;
    for (int b = 0; b < m; ++b) col_updates_[fill[l21_rows_[off + b]]++] = ColumnUpdate{off, b, m};
  }
  l21_flat_.resize(l21_offset_.back());
}

void PlsModel::build_ordering() {
  std::vector<Eigen::Triplet<double>> a22;  // nonzeros of A22, lower triangle
  const std::vector<char> nz = rest_pattern(a22);
  std::vector<int> perm = amd_order(nz);
  std::vector<char> tz;
  if (!tile_pattern(nz, perm, tz)) return;  // nearly dense: the plain blocked factorisation
  const int nt = static_cast<int>((qr_ + kTile - 1) / kTile);
  perm_ = std::move(perm);
  tile_ = kTile;
  tile_below_.assign(nt, {});
  for (int K = 0; K < nt; ++K)
    for (int I = K + 1; I < nt; ++I)
      if (tz[I + static_cast<size_t>(K) * nt]) tile_below_[K].push_back(I);
  store_permuted_rest(a22);
}

// Structure (lower triangle, by column) of Lambda_r'A22 Lambda_r + I - sum_j L21_j L21_j';
// a22 receives A22's nonzeros of the lower triangle.
std::vector<char> PlsModel::rest_pattern(std::vector<Eigen::Triplet<double>>& a22) const {
  const Eigen::Index nr = qr_;
  std::vector<char> nz(static_cast<size_t>(nr) * nr, 0);
  for (Eigen::Index c = 0; c < nr; ++c) {
    nz[c + c * nr] = 1;
    for (Eigen::Index r = c; r < nr; ++r)
      if (A22_(r, c) != 0.0) {
        nz[r + c * nr] = 1;
        a22.emplace_back(static_cast<int>(r), static_cast<int>(c), A22_(r, c));
      }
  }
  for (const BlockCol& bc : A21_)
    for (size_t x = 0; x < bc.rows.size(); ++x)
      for (size_t y = 0; y <= x; ++y) {
        const int a = std::max(bc.rows[x], bc.rows[y]), b = std::min(bc.rows[x], bc.rows[y]);
        nz[a + static_cast<size_t>(b) * nr] = 1;
      }
  return nz;
}

// AMD ordering of the pattern: perm[rest column] = position.
std::vector<int> PlsModel::amd_order(const std::vector<char>& nz) const {
  const Eigen::Index nr = qr_;
  SpMat S(nr, nr);  // AMD works on the pattern of S + S'
  {
    Eigen::Index total = 0;
    for (char v : nz) total += v;
    S.reserve(total);
    for (Eigen::Index c = 0; c < nr; ++c) {
      S.startVec(c);
      for (Eigen::Index r = c; r < nr; ++r)
        if (nz[r + c * nr]) S.insertBack(r, c) = 1.0;
    }
    S.finalize();
  }
  Eigen::AMDOrdering<int> amd;
  Eigen::PermutationMatrix<Eigen::Dynamic, Eigen::Dynamic, int> P;
  amd(S, P);  // P.indices()[new position] = rest column
  std::vector<int> perm(nr);
  for (Eigen::Index i = 0; i < nr; ++i) perm[P.indices()[i]] = static_cast<int>(i);
  return perm;
}

// Tile-level symbolic factorisation in the order perm: tz (nt x nt, lower) marks the tiles
// that can be nonzero in the factor. False when they are more than kTileWorthIt of the work of
// a dense factorisation.
bool PlsModel::tile_pattern(const std::vector<char>& nz, const std::vector<int>& perm,
                            std::vector<char>& tz) const {
  const Eigen::Index nr = qr_;
  const int b = kTile;
  const int nt = static_cast<int>((nr + b - 1) / b);
  tz.assign(static_cast<size_t>(nt) * nt, 0);
  for (Eigen::Index c = 0; c < nr; ++c)
    for (Eigen::Index r = c; r < nr; ++r)
      if (nz[r + c * nr]) {
        const int I = perm[r] / b, J = perm[c] / b;
        tz[std::max(I, J) + static_cast<size_t>(std::min(I, J)) * nt] = 1;
      }
  double work = 0.0, dense = 0.0;
  for (int K = 0; K < nt; ++K)
    for (int J = K; J < nt; ++J) {
      dense += (nt - J);
      if (!tz[J + static_cast<size_t>(K) * nt]) continue;
      for (int I = J; I < nt; ++I)
        if (tz[I + static_cast<size_t>(K) * nt]) {
          tz[I + static_cast<size_t>(J) * nt] = 1;
          work += 1.0;
        }
    }
  return work <= kTileWorthIt * dense;
}

// The lower triangle of P'A22 P by column (a22: A22's nonzeros); A22_ itself is released.
void PlsModel::store_permuted_rest(const std::vector<Eigen::Triplet<double>>& a22) {
  const Eigen::Index nr = qr_;
  std::vector<std::vector<std::pair<int, double>>> cols(nr);
  for (const auto& e : a22) {
    const int pr = perm_[e.row()], pc = perm_[e.col()];
    cols[std::min(pr, pc)].emplace_back(std::max(pr, pc), e.value());
  }
  a22_ptr_.assign(nr + 1, 0);
  a22_row_.clear();
  a22_val_.clear();
  for (Eigen::Index c = 0; c < nr; ++c) {
    std::sort(cols[c].begin(), cols[c].end());
    for (const auto& e : cols[c]) {
      a22_row_.push_back(e.first);
      a22_val_.push_back(e.second);
    }
    a22_ptr_[c + 1] = static_cast<int>(a22_row_.size());
  }
  A22_.resize(0, 0);
}

}  // namespace lmer
}  // namespace rmodels
