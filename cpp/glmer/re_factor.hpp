// The sparse factor of a glmer model's penalized weighted least-squares problem (lme4's
// merPredD with its CHOLMOD factor), for PIRLS:
//
//   L L' = P (Lambda'Z'WZ Lambda + I) P',   P a fill-reducing (AMD) order;
//   R_ZX = L^-1 P Lambda'Z'WX,  R_X R_X' = X'WX - R_ZX'R_ZX (lower R_X, when X has columns).
//
// The pattern of Lambda'Z'WZ Lambda depends neither on the weights W nor on theta: it is built
// and analysed (AMD order, elimination tree) once per model (RePattern), and every PIRLS step
// only scatters the new values into it and refactors numerically. The rows of Z Lambda (one
// value per observation and random-effect column it touches) are formed once per theta.
//
// When the first term is scalar and others follow (e.g. crossed or nested random intercepts),
// its diagonal block is eliminated explicitly: L11 = D^1/2, L21 = B D^-1/2, and only the Schur
// complement S = C - B D^-1 B' of the other terms goes to the sparse Cholesky (its pattern,
// and where each product of L21 lands in it, analysed once as well).
#pragma once

#include <Eigen/Dense>
#include <Eigen/SparseCholesky>
#include <Eigen/SparseCore>
#include <memory>
#include <vector>

#include "lmer.hpp"

namespace rmodels {
namespace glmer {

using Eigen::MatrixXd;
using Eigen::VectorXd;

// What does not change during a fit: per observation the columns of u it touches (one per
// effect of each term, "entries"), its raw Z values, and where each product of two entries
// lands in the lower triangle of Lambda'Z'WZ Lambda (compressed columns, diagonal always
// stored).
struct RePattern {
  using SpMat = Eigen::SparseMatrix<double>;
  int n = 0, q = 0, kall = 0, npairs = 0;
  std::vector<int> term_k, term_nlev, term_base, term_theta;  // per term
  std::vector<int> entry_term, entry_effect;                  // per entry (kall)
  std::vector<int> cols;                                      // n x kall, row by row
  std::vector<double> z;                                      // n x kall raw Z values
  std::vector<int> pair_a, pair_b;                            // entries of each product
  std::vector<int> pos;                                       // n x npairs value positions
  std::vector<int> diag_pos;                                  // q
  SpMat pattern;                                              // q x q lower, zero values
  // the Schur path (q1 > 0): first term scalar, with q1 levels, followed by other terms
  int q1 = 0;
  SpMat schur_pattern;              // (q - q1) x (q - q1) lower
  std::vector<int> c_src, c_dst;    // values of pattern's columns >= q1 -> schur_pattern
  std::vector<int> l21_pos;  // products of L21's columns, level by level: positions in S's values
                             // (only when S is too large to accumulate densely)
};

// The pattern of the terms (lmer's ReTermInput, in lme4's order) for n observations.
std::shared_ptr<const RePattern> make_re_pattern(const std::vector<lmer::ReTermInput>& terms,
                                                 int n);

class ReFactor {
 public:
  explicit ReFactor(std::shared_ptr<const RePattern> pattern);
  int q() const { return pat_->q; }
  // Lambda(theta): the templates and the rows of Z Lambda.
  void set_theta(const VectorXd& theta);
  // Factor at the working weights w (n); X (n x p, p may be 0) the fixed effects estimated
  // with u. Throws std::runtime_error when a factor is not positive definite.
  void factor(const VectorXd& w, const MatrixXd& X);
  // The penalized least-squares solution for the working response r (n, offset removed) at
  // the weights of the last factor: u, and beta when X has columns.
  void solve(const VectorXd& w, const VectorXd& r, const MatrixXd& X, VectorXd& u,
             VectorXd& beta) const;
  // eta += Z Lambda u
  void add_z_lambda_u(const VectorXd& u, VectorXd& eta) const;
  // b = Lambda u
  VectorXd lambda_u(const VectorXd& u) const;
  double ldL2() const { return ldL2_; }
  double ldRX2() const { return ldRX2_; }
  const MatrixXd& RX() const { return RX_; }
  // The diagonal of L for a single scalar term (L is diagonal then; lme4's L of glmerAGQ).
  VectorXd scalar_diagonal() const;

 private:
  using SpMat = RePattern::SpMat;
  void factor_schur();
  // c <- L^-1 P c and c <- P' L'^-1 c (P: the fill-reducing order)
  void forward(Eigen::Ref<VectorXd> c) const;
  void backward(Eigen::Ref<VectorXd> c) const;
  std::shared_ptr<const RePattern> pat_;
  std::vector<double> v_;  // n x kall: rows of Z Lambda
  std::vector<MatrixXd> T_;
  SpMat M_;
  Eigen::SimplicialLLT<SpMat, Eigen::Lower, Eigen::AMDOrdering<int>> llt_;
  SpMat S_;               // Schur path: the Schur complement, factored by llt_
  MatrixXd Sd_;           // Schur path with few other columns: S accumulated densely
  VectorXd l11_, l21_;    // Schur path: D^1/2 and L21 (at M_'s value positions)
  MatrixXd RZX_, RX_;
  double ldL2_ = 0, ldRX2_ = 0;
};

}  // namespace glmer
}  // namespace rmodels
