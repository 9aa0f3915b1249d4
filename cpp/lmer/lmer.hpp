// Linear mixed models by penalized least squares (PLS), as lme4::lmer defines them.
//
// Model: y = X beta + Z b + e,  e ~ N(0, sigma^2 W^-1),  b = Lambda_theta u,  u ~ N(0, sigma^2 I).
// For a given theta the blocked lower Cholesky factor L of
//
//        [ Lambda'Z'WZ Lambda + I   Lambda'Z'WX   Lambda'Z'Wy ]
//   A~ = [ X'WZ Lambda              X'WX          X'Wy        ]
//        [ y'WZ Lambda              y'WX          y'Wy        ]
//
// gives everything the profiled criteria need (MixedModels.jl's layout): log|L_Z|^2 from the
// random-effects diagonal blocks, log|R_X|^2 from the X rows, and the penalized residual sum of
// squares as the square of the last diagonal entry (y is appended to X).
//
// Storage (random-effect terms in lme4's order, the first having the most levels):
//   term 1 ("1"):      Z_1'WZ_1 is block diagonal (k1 x k1 per level; diagonal when k1 = 1);
//   terms 2..K ("2"):  one dense block (Z_2..Z_K)'W(Z_2..Z_K) of size q_r x q_r;
//   Z_r'WZ_1:          block-sparse columns: for each level of term 1 the rows it touches;
//   [X y]:             dense rows against term 1, the rest and themselves.
// When the rest block would be large (many levels in a second grouping factor, e.g. crossed
// factors with thousands of levels each), a sparse path is used instead: Lambda'Z'WZ Lambda + I
// is factored by a sparse Cholesky with a fill-reducing (AMD) ordering, R_ZX by triangular
// solves, and the [X y] block as above (lme4's own scheme).
// When every term is scalar and the rest block is large (>= 256 columns), the rest block is
// stored in a fill-reducing (AMD) order of its theta-independent structure and factored tile by
// tile, skipping the tiles that stay zero (e.g. InstEval: lecturers nested in departments);
// solutions are permuted back, so nothing outside the factorisation sees the order.
//
// Files: random_effects.cpp (the terms, [X y] and Lambda(theta)), cross_products.cpp (the
// blocks of A and their fill-reducing order), blocked_factor.cpp and sparse_factor.cpp (the
// factor L at theta), dense_cholesky.cpp (its dense kernels), deviance.cpp (the criterion and
// the PLS solution that join factor and response), optimizer.cpp (BOBYQA over theta).
#pragma once

#include <Eigen/Dense>
#include <Eigen/SparseCholesky>
#include <Eigen/SparseCore>
#include <vector>

namespace rmodels {
namespace lmer {

using Eigen::MatrixXd;
using Eigen::VectorXd;
using Eigen::VectorXi;

// One random-effect term (lhs | g): k effect columns evaluated on n rows, and the level of the
// grouping factor of each row (0-based, < nlev).
struct ReTermInput {
  VectorXi codes;  // n
  int nlev = 0;
  MatrixXd zlhs;  // n x k (unweighted)
};

// Components of the criterion at one theta (lme4's devcomp$cmp names).
struct Criterion {
  double ldL2 = 0, ldRX2 = 0, pwrss = 0, ldW = 0;
  double deviance_ml = 0;  // ldL2 - ldW + n (1 + log(2 pi pwrss / n))
  double reml = 0;         // ldL2 - ldW + ldRX2 + (n - p)(1 + log(2 pi pwrss / (n - p)))
};

// The PLS solution at theta.
struct Solution {
  Criterion crit;
  VectorXd beta;    // p
  VectorXd u;       // q (spherical random effects)
  VectorXd b;       // q = Lambda u, lme4's getME(, "b")
  MatrixXd RX;      // p x p lower factor: R_X'R_X = X'WX - R_ZX'R_ZX (lower L_BB, L_BB L_BB')
  VectorXd fitted;  // n, X beta + Z b + offset (unweighted scale)
};

struct OptimResult {
  VectorXd theta;
  double fval = 0;
  int feval = 0;
  int status = 0;
  MatrixXd path;  // when traced: one row per evaluation, theta then the criterion
};

// NLopt's BOBYQA with lme4's nloptwrap settings: minimise f (NLopt's objective signature:
// n, x, gradient (unused), data) from x (updated in place) within [lower, upper] (n values
// each, infinite = unbounded; upper may be null). *handle, when given, receives the NLopt
// object before the run (for nlopt_force_stop from the objective; null when n = 0, where f is
// evaluated once at the empty x). initial_step, when given, holds NLopt's initial step of each
// coordinate (n values). Returns NLopt's status (0 when n = 0).
using BobyqaObjective = double (*)(unsigned, const double*, double*, void*);
int bobyqa_minimize(unsigned n, double* x, const double* lower, const double* upper,
                    BobyqaObjective f, void* data, double xtol_abs, double ftol_abs,
                    double xtol_rel, int maxeval, double* fmin, void** handle = nullptr,
                    const double* initial_step = nullptr);

class PlsModel {
 public:
  // X: n x p, y: n, weights: n (prior weights, >= 0) or empty, offset: n or empty.
  // method: 0 = automatic (blocked unless the dense rest block would exceed dense_limit
  // columns), 1 = blocked, 2 = sparse.
  PlsModel(const Eigen::Ref<const MatrixXd>& X, const Eigen::Ref<const VectorXd>& y,
           const Eigen::Ref<const VectorXd>& weights, const Eigen::Ref<const VectorXd>& offset,
           std::vector<ReTermInput> terms, int method = 0, int dense_limit = 3000);
  bool is_sparse() const { return sparse_; }
  // blocked path with a fill-reducing order and a tiled factorisation of the rest block
  bool is_tiled() const { return tile_ > 0; }
  // threads for the dense factorisation of the blocked path (1 or 2; results do not depend on it)
  void set_threads(int threads) { threads_ = threads < 1 ? 1 : threads; }
  int threads() const { return threads_; }

  int n() const { return n_; }
  int p() const { return p_; }
  int q() const { return q1_ + qr_; }
  int ntheta() const { return ntheta_; }
  // Whether some update_theta so far found the downdated X'X (lme4's VtV - RZX'RZX) not
  // positive definite, where lme4 stops with "Downdated VtV is not positive definite".
  bool rx_failed() const { return rx_failed_; }

  // Replace the prior weights, the response and the offset (n values each; weights may not be
  // empty): the cross products are formed again, the terms and the factorisation path stay.
  // glmer's PIRLS reweights one model at every step.
  void reweight(const Eigen::Ref<const VectorXd>& weights, const Eigen::Ref<const VectorXd>& y,
                const Eigen::Ref<const VectorXd>& offset);
  // The diagonal of L_Z at the last update_theta for a model with one scalar term (one value
  // per level; lme4's L factor of a single scalar term, used by adaptive quadrature).
  VectorXd scalar_factor_diagonal() const;
  // Set theta, update the blocked Cholesky factor and return the criterion components.
  Criterion update_theta(const VectorXd& theta);
  // REML criterion (reml = true) or ML deviance at theta.
  double objective(const VectorXd& theta, bool reml);
  // beta, u, b, R_X and fitted values at theta.
  Solution solve(const VectorXd& theta);
  // Diagonal blocks (one k_t x k_t block per level of each term, stacked column-wise as
  // k_t x (k_t nlev_t)) of Lambda (L_Z L_Z')^-1 Lambda', L_Z the random-effects part of L:
  // the conditional covariance of b given theta divided by sigma^2 (lme4's condVar).
  std::vector<MatrixXd> cond_var_blocks(const VectorXd& theta);
  // Minimise the criterion over theta with NLopt's BOBYQA (lme4's nloptwrap settings).
  OptimResult optimize(const VectorXd& theta0, const VectorXd& lower, bool reml, double xtol_abs,
                       double ftol_abs, double xtol_rel, int maxeval, bool trace = false);

 private:
  struct Term {
    int nlev, k, offset;  // offset: first column in its part (term 1: 0; rest: within q_r)
    int theta_offset;
    VectorXi codes;
    MatrixXd zraw;  // n x k as given
    MatrixXd z;     // n x k, rows scaled by sqrt(w)
  };
  // Z_r'WZ_1 restricted to the rows touched by level j of term 1.
  struct BlockCol {
    std::vector<int> rows;  // sorted indices into the rest part (complete level blocks)
    MatrixXd A;             // rows.size() x k1
    MatrixXd L;             // same pattern, factor values
    std::vector<std::ptrdiff_t> lower_idx;  // linear indices in L22 of (rows[a], rows[b]), a >= b
  };

  // structure and Lambda(theta) (random_effects.cpp)
  VectorXd set_weights(const Eigen::Ref<const VectorXd>& weights);
  void set_fixed_part(const Eigen::Ref<const MatrixXd>& X, const Eigen::Ref<const VectorXd>& y,
                      const Eigen::Ref<const VectorXd>& offset, const VectorXd& sw);
  void set_terms(std::vector<ReTermInput>& terms, const VectorXd& sw);
  int term_base(int t) const { return t == 0 ? 0 : q1_ + terms_[t].offset; }
  MatrixXd lower_template(int t, const VectorXd& theta) const;
  void apply_lambda_rest_left(std::vector<int>& rows, MatrixXd& M,
                              const std::vector<MatrixXd>& T) const;
  // cross products of the blocked path and their ordering (cross_products.cpp)
  void build_cross_products();
  void build_term1_products();
  void build_rest_products_scalar();
  void build_rest_products_vector();
  void build_level_columns();
  void build_gather();
  void build_ordering();
  std::vector<char> rest_pattern(std::vector<Eigen::Triplet<double>>& a22) const;
  std::vector<int> amd_order(const std::vector<char>& nz) const;
  bool tile_pattern(const std::vector<char>& nz, const std::vector<int>& perm,
                    std::vector<char>& tz) const;
  void store_permuted_rest(const std::vector<Eigen::Triplet<double>>& a22);
  // position in L22_ of rest column c (identity unless a fill-reducing order is in use)
  int rp(int c) const { return perm_.empty() ? c : perm_[c]; }
  // the blocked factor at theta (blocked_factor.cpp)
  void update_blocked(Criterion& cr);
  void factor_term1(Criterion& cr);
  void update_L21();
  void subtract_l21_products(double* col, int c) const;
  void form_rest_block_tiled();
  void form_rest_block_dense();
  void update_L32();
  // the sparse path (sparse_factor.cpp)
  void build_sparse();
  void update_sparse(Criterion& cr);
  std::vector<MatrixXd> cond_var_sparse();
  // solution from the blocked factor (deviance.cpp)
  VectorXd solve_u_blocked(const VectorXd& c) const;

  int n_, p_, K_, q1_ = 0, qr_ = 0, ntheta_ = 0;
  double ldW_ = 0;
  bool rx_failed_ = false;
  // n x (p+1), weighted: X, then y - offset - X gamma, gamma the weighted least-squares
  // coefficients of y - offset on X. Using the least-squares residual instead of y leaves
  // pwrss, ldL2 and ldRX2 unchanged (beta shifts by gamma) and avoids the cancellation of a
  // large y'y in the last pivot of the factor.
  MatrixXd Xy_;
  VectorXd gamma_;
  VectorXd offset_;
  MatrixXd Xraw_;
  std::vector<Term> terms_;
  std::vector<int> rest_term_of_;  // rest column -> term index
  int threads_ = 1;
  bool rest_scalar_ = true;  // every rest term has one effect (Lambda_r diagonal)
  // For a scalar term 1, sum_j L21_j L21_j' is subtracted column by column of L22 (the
  // column stays in L1 cache): column c receives, for each level j whose rows include c at
  // position b, l_j[b] * l_j[a] at rows_j[a] for a >= b. L21 values and rows are flattened
  // level by level (level j from l21_offset_[j]).
  struct ColumnUpdate {
    int offset, b, m;  // level start in the flat arrays, position of c, number of rows
  };
  std::vector<int> col_ptr_;  // updates of column c: col_ptr_[c] .. col_ptr_[c+1]-1
  std::vector<ColumnUpdate> col_updates_;
  std::vector<int> l21_offset_;
  std::vector<int> l21_rows_;  // flattened rows
  VectorXd l21_flat_;          // flattened values
  VectorXd rest_theta_;        // theta of each rest column (scalar rest terms)
  std::vector<int> l21_src_;   // flat position -> row of A21_[j].L (rows in L22_ order)

  // Fill-reducing order of a large rest block (scalar terms throughout). The dense block is
  // stored and factored as P'(Lambda_r'A22 Lambda_r + I - sum_j L21_j L21_j')P with P an AMD
  // ordering of its (theta-independent) structure; L22_, L32_'s columns and A22_ are then in
  // that order. Its factor is computed tile by tile (tile_ x tile_), skipping the tiles that are
  // zero in every factor with this structure (tile-level symbolic factorisation).
  std::vector<int> perm_;                     // rest column -> position (empty: identity)
  int tile_ = 0;                              // 0: dense factorisation of L22_
  std::vector<std::vector<int>> tile_below_;  // tile column K: nonzero tile rows I > K (sorted)
  VectorXd rest_theta_p_;                     // rest_theta_ in L22_ order
  // with the order: the lower triangle of P'A22 P by column (A22_ itself is then released)
  std::vector<int> a22_ptr_, a22_row_;
  std::vector<double> a22_val_;

  // cross products
  MatrixXd A11_;  // k1 x q1: level blocks side by side
  std::vector<BlockCol> A21_;
  MatrixXd A22_;  // qr x qr (full symmetric)
  MatrixXd A31_;  // (p+1) x q1
  MatrixXd A32_;  // (p+1) x qr
  MatrixXd A33_;  // (p+1) x (p+1)

  // factor
  MatrixXd L11_;             // k1 x q1
  MatrixXd L22_;             // qr x qr (lower)
  MatrixXd L31_;             // (p+1) x q1
  MatrixXd L32_;             // (p+1) x qr
  MatrixXd L33_;             // (p+1) x (p+1) lower
  std::vector<MatrixXd> T_;  // templates at the current theta

  // sparse path (global columns: term 1, then the rest terms in order)
  using SpMat = Eigen::SparseMatrix<double>;
  bool sparse_ = false;
  SpMat AZZ_;                      // Z'WZ, q x q, symmetric (both triangles stored)
  MatrixXd AZX_;                   // Z'W[X y], q x (p+1)
  SpMat Lambda_;                   // q x q block diagonal, lower templates
  std::vector<int> lambda_theta_;  // theta index of each stored entry of Lambda_
  SpMat Mz_;                       // Lambda'Z'WZ Lambda + I (lower)
  Eigen::SimplicialLLT<SpMat, Eigen::Lower, Eigen::AMDOrdering<int>> sllt_;
  MatrixXd RZX_;  // q x (p+1): L^-1 P Lambda' Z'W[X y]
};

}  // namespace lmer
}  // namespace rmodels
