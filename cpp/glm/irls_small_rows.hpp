// The row passes of glm_fit_small (irls_small.cpp) for the logit link with the binomial
// variance, fused and four rows at a time with AVX2: one pass computes the working weights and
// responses and accumulates their Gram matrix, the other the linear predictor, the means and the
// deviance. Each row's arithmetic is irls_rows.hpp's (working_rows, update_fit) and
// families.hpp's in fewer divisions: 1 - mu as 1 / (1 + exp(eta)), the working weight as
// sqrt(w mu.eta) (mu.eta = V(mu) for the logit link), the deviance of a 0/1 response with equal
// weights from the product of the rows' probabilities; exp and log are Eigen's SIMD ones. The
// values differ from the single fit's by a few units in the last place, far inside the 1e-10 the
// results are held to.
#pragma once
#ifdef __AVX2__
#include <immintrin.h>

#include <Eigen/Core>
#include <cfloat>
#include <cmath>
#include <cstdint>

namespace rmodels {
namespace small_rows {

using Eigen::Index;

inline double hsum(__m256d v) {
  alignas(32) double t[4];
  _mm256_store_pd(t, v);
  return (t[0] + t[1]) + (t[2] + t[3]);
}

inline bool any_lane(__m256d mask) { return _mm256_movemask_pd(mask) != 0; }

// The problem's rows: X (n x p, column-major, leading dimension ld), offset, response, prior
// weights.
struct Rows {
  const double* X;
  Index ld, n, p;
  const double* off;
  const double* y;
  const double* w;
};

// The binomial unit deviance 2 w (y log(y / mu) + (1 - y) log((1 - y) / (1 - mu))) of four rows;
// binary: every y is 0 or 1 (one of the terms is 0).
inline __m256d binomial_unit_deviance(__m256d y, __m256d m, __m256d w, bool binary) {
  const __m256d one = _mm256_set1_pd(1.), zero = _mm256_setzero_pd();
  const __m256d two_w = _mm256_mul_pd(_mm256_set1_pd(2.), w);
  if (binary) {
    const __m256d is1 = _mm256_cmp_pd(y, one, _CMP_EQ_OQ);
    const __m256d den = _mm256_blendv_pd(_mm256_sub_pd(one, m), m, is1);
    return _mm256_mul_pd(two_w, Eigen::internal::plog(_mm256_div_pd(one, den)));
  }
  const __m256d y1 = _mm256_sub_pd(one, y);
  const __m256d a = _mm256_mul_pd(y, Eigen::internal::plog(_mm256_div_pd(y, m)));
  const __m256d b =
      _mm256_mul_pd(y1, Eigen::internal::plog(_mm256_div_pd(y1, _mm256_sub_pd(one, m))));
  const __m256d ta = _mm256_blendv_pd(zero, a, _mm256_cmp_pd(y, zero, _CMP_NEQ_UQ));
  const __m256d tb = _mm256_blendv_pd(zero, b, _mm256_cmp_pd(y1, zero, _CMP_NEQ_UQ));
  return _mm256_mul_pd(two_w, _mm256_add_pd(ta, tb));
}

// A product of factors in [DBL_EPSILON, 1], four lanes, kept as a mantissa in [2^-416, 2) and a
// sum of binary exponents (renormalised every eight factors, so it never underflows): the sum of
// the factors' logarithms with one log per lane instead of one per factor, to about n eps.
class LogProduct {
 public:
  void mul(__m256d v) {
    acc_ = _mm256_mul_pd(acc_, v);
    if (++since_ == 8) normalize();
  }
  // The sum of the logarithms of every factor (the lanes' and the scalar ones of `rest`).
  long double log_sum() {
    normalize();
    alignas(32) double a[4];
    alignas(32) std::int64_t e[4];
    _mm256_store_pd(a, acc_);
    _mm256_store_si256(reinterpret_cast<__m256i*>(e), ex_);
    constexpr long double kLn2 = 0.693147180559945309417232121458176568L;
    long double s = 0;
    for (int k = 0; k < 4; ++k) s += std::log(static_cast<long double>(a[k])) + e[k] * kLn2;
    return s;
  }

 private:
  void normalize() {
    const __m256i bits = _mm256_castpd_si256(acc_);
    ex_ = _mm256_add_epi64(
        ex_, _mm256_sub_epi64(_mm256_srli_epi64(bits, 52), _mm256_set1_epi64x(1023)));
    acc_ = _mm256_castsi256_pd(
        _mm256_or_si256(_mm256_and_si256(bits, _mm256_set1_epi64x(0x000fffffffffffffLL)),
                        _mm256_set1_epi64x(0x3ff0000000000000LL)));
    since_ = 0;
  }
  __m256d acc_ = _mm256_set1_pd(1.);
  __m256i ex_ = _mm256_setzero_si256();
  int since_ = 0;
};

// How logit_update sums the binomial deviance: Binary (every y 0 or 1), EqualBinary (also every
// prior weight the same: 2 w log(1 / prod(den)) by LogProduct, den = mu where y is 1, else
// 1 - mu = 1 / (1 + exp(eta))), General.
enum class DevSum { General, Binary, EqualBinary };

// eta = X b + offset (columns accumulated in order, as dgemv), mu and mu.eta of the logit link
// (R's clamps at |eta| > 30; mu = t r and mu.eta = mu r with t = exp(eta), r = 1 / (1 + t)) and
// the sum of the binomial unit deviances (dev). False when some eta is not finite or some mu is
// not in (0, 1) (validmu).
inline bool logit_update(const Rows& r, const double* b, DevSum how, double* eta, double* mu,
                         double* me, double& dev) {
  constexpr double eps = DBL_EPSILON;
  const __m256d v_eps = _mm256_set1_pd(eps), v_big = _mm256_set1_pd(1 / eps);
  const __m256d v_hi = _mm256_set1_pd(30.), v_lo = _mm256_set1_pd(-30.), one = _mm256_set1_pd(1.);
  const __m256d zero = _mm256_setzero_pd(), v_max = _mm256_set1_pd(DBL_MAX);
  const __m256d abs_mask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL));
  const bool binary = how != DevSum::General, product = how == DevSum::EqualBinary;
  __m256d sum = zero, bad = zero;
  LogProduct prod;
  long double tail_log = 0;
  Index i = 0;
  for (; i + 4 <= r.n; i += 4) {
    __m256d e = zero;
    for (Index j = 0; j < r.p; ++j)
      e = _mm256_add_pd(e,
                        _mm256_mul_pd(_mm256_set1_pd(b[j]), _mm256_loadu_pd(r.X + j * r.ld + i)));
    e = _mm256_add_pd(e, _mm256_loadu_pd(r.off + i));
    _mm256_storeu_pd(eta + i, e);
    const __m256d above = _mm256_cmp_pd(e, v_hi, _CMP_GT_OQ);
    const __m256d below = _mm256_cmp_pd(e, v_lo, _CMP_LT_OQ);
    const __m256d t = _mm256_blendv_pd(
        _mm256_blendv_pd(Eigen::internal::pexp(_mm256_min_pd(e, v_hi)), v_big, above), v_eps,
        below);
    const __m256d rr = _mm256_div_pd(one, _mm256_add_pd(one, t));
    const __m256d m = _mm256_mul_pd(t, rr);
    _mm256_storeu_pd(mu + i, m);
    _mm256_storeu_pd(me + i, _mm256_blendv_pd(_mm256_mul_pd(m, rr), v_eps,
                                              _mm256_or_pd(above, below)));
    const __m256d ok = _mm256_and_pd(
        _mm256_and_pd(_mm256_cmp_pd(m, zero, _CMP_GT_OQ), _mm256_cmp_pd(m, one, _CMP_LT_OQ)),
        _mm256_cmp_pd(_mm256_and_pd(e, abs_mask), v_max, _CMP_LE_OQ));
    bad = _mm256_or_pd(bad, _mm256_xor_pd(ok, _mm256_cmp_pd(zero, zero, _CMP_EQ_OQ)));
    const __m256d y = _mm256_loadu_pd(r.y + i);
    if (product)
      prod.mul(_mm256_blendv_pd(rr, m, _mm256_cmp_pd(y, one, _CMP_EQ_OQ)));
    else
      sum = _mm256_add_pd(sum, binomial_unit_deviance(y, m, _mm256_loadu_pd(r.w + i), binary));
  }
  double s = hsum(sum);
  bool valid = !any_lane(bad);
  for (; i < r.n; ++i) {  // the last rows, one at a time through the same lanes
    alignas(32) double rest[4];
    double e = 0;
    for (Index j = 0; j < r.p; ++j) e += b[j] * r.X[j * r.ld + i];
    e += r.off[i];
    eta[i] = e;
    _mm256_store_pd(rest, Eigen::internal::pexp(_mm256_set1_pd(e < 30. ? e : 30.)));
    const double t = e < -30. ? eps : (e > 30. ? 1 / eps : rest[0]);
    const double rr = 1 / (1 + t);
    mu[i] = t * rr;
    me[i] = (e > 30. || e < -30.) ? eps : mu[i] * rr;
    valid = valid && mu[i] > 0 && mu[i] < 1 && std::fabs(e) <= DBL_MAX;
    if (product) {
      tail_log += std::log(static_cast<long double>(r.y[i] == 1.0 ? mu[i] : rr));
      continue;
    }
    _mm256_store_pd(rest, binomial_unit_deviance(_mm256_set1_pd(r.y[i]), _mm256_set1_pd(mu[i]),
                                                 _mm256_set1_pd(r.w[i]), binary));
    s += rest[0];
  }
  dev = product && r.n > 0 ? static_cast<double>(-2 * static_cast<long double>(r.w[0]) *
                                                 (prod.log_sum() + tail_log))
                           : s;
  return valid;
}

// glm.fit's conditions met by the working pass (irls_rows::WorkFlags' meaning).
struct Flags {
  bool bad = false;  // NAs or zeros in V(mu), NAs in mu.eta, a non-finite working value
  Index good = 0;    // rows with w > 0 and mu.eta != 0
};

// The working weights sW and responses of the binomial variance (irls_rows::working_rows) and
// G = [sW X  sW z]'[sW X  sW z] (upper triangle, (P + 1) x (P + 1), column-major in g); sW
// written to sw (0 outside the good rows).
template <int P>
inline Flags binomial_working_gram(const Rows& r, const double* eta, const double* mu,
                                   const double* me, double* sw, double* g) {
  constexpr int K = (P + 1) * (P + 2) / 2;
  const __m256d zero = _mm256_setzero_pd(), one = _mm256_set1_pd(1.);
  const __m256d v_max = _mm256_set1_pd(DBL_MAX), v_30 = _mm256_set1_pd(30.);
  const __m256d abs_mask = _mm256_castsi256_pd(_mm256_set1_epi64x(0x7fffffffffffffffLL));
  __m256d acc[K];
  for (int k = 0; k < K; ++k) acc[k] = zero;
  __m256d bad = zero;
  Flags fl;
  Index i = 0;
  auto rows4 = [&](const double* e4, const double* m4, const double* me4, const double* y4,
                   const double* w4, const double* o4, const double* const* x4, double* sw4) {
    const __m256d d = _mm256_loadu_pd(me4), m = _mm256_loadu_pd(m4), w = _mm256_loadu_pd(w4);
    const __m256d v = _mm256_mul_pd(m, _mm256_sub_pd(one, m));
    const __m256d pos = _mm256_cmp_pd(w, zero, _CMP_GT_OQ);
    const __m256d good = _mm256_and_pd(pos, _mm256_cmp_pd(d, zero, _CMP_NEQ_UQ));
    const __m256d e = _mm256_loadu_pd(e4);
    const __m256d z = _mm256_add_pd(
        _mm256_sub_pd(e, _mm256_loadu_pd(o4)),
        _mm256_mul_pd(_mm256_sub_pd(_mm256_loadu_pd(y4), m), _mm256_div_pd(one, d)));
    // w mu.eta^2 / V(mu) is w mu.eta for the logit link, where mu.eta is not clamped.
    __m256d ww = _mm256_sqrt_pd(_mm256_mul_pd(w, d));
    const __m256d clamped = _mm256_cmp_pd(_mm256_and_pd(e, abs_mask), v_30, _CMP_GT_OQ);
    if (any_lane(clamped))
      ww = _mm256_blendv_pd(
          ww, _mm256_sqrt_pd(_mm256_div_pd(_mm256_mul_pd(w, _mm256_mul_pd(d, d)), v)), clamped);
    const __m256d zwi = _mm256_mul_pd(z, ww);
    const __m256d finite =
        _mm256_and_pd(_mm256_cmp_pd(_mm256_and_pd(ww, abs_mask), v_max, _CMP_LE_OQ),
                      _mm256_cmp_pd(_mm256_and_pd(zwi, abs_mask), v_max, _CMP_LE_OQ));
    const __m256d unord_v = _mm256_cmp_pd(v, v, _CMP_UNORD_Q);
    const __m256d zero_v = _mm256_cmp_pd(v, zero, _CMP_EQ_OQ);
    const __m256d unord_d = _mm256_cmp_pd(d, d, _CMP_UNORD_Q);
    bad =
        _mm256_or_pd(bad, _mm256_and_pd(pos, _mm256_or_pd(_mm256_or_pd(unord_v, zero_v), unord_d)));
    bad = _mm256_or_pd(bad, _mm256_andnot_pd(finite, good));
    fl.good += __builtin_popcount(static_cast<unsigned>(_mm256_movemask_pd(good)));
    const __m256d s = _mm256_and_pd(good, ww);
    _mm256_storeu_pd(sw4, s);
    __m256d xs[P + 1];
    for (int j = 0; j < P; ++j) xs[j] = _mm256_mul_pd(_mm256_loadu_pd(x4[j]), s);
    xs[P] = _mm256_and_pd(good, zwi);
    int k = 0;
    for (int a = 0; a <= P; ++a)
      for (int c = a; c <= P; ++c, ++k) acc[k] = _mm256_add_pd(acc[k], _mm256_mul_pd(xs[a], xs[c]));
  };
  const double* xp[P + 1];
  for (; i + 4 <= r.n; i += 4) {
    for (int j = 0; j < P; ++j) xp[j] = r.X + j * r.ld + i;
    rows4(eta + i, mu + i, me + i, r.y + i, r.w + i, r.off + i, xp, sw + i);
  }
  if (i < r.n) {  // the last rows, padded with rows of prior weight 0 (not good: no terms)
    alignas(32) double buf[6 + P][4] = {};
    const Index m = r.n - i;
    for (Index t = 0; t < m; ++t) {
      buf[0][t] = eta[i + t];
      buf[1][t] = mu[i + t];
      buf[2][t] = me[i + t];
      buf[3][t] = r.y[i + t];
      buf[4][t] = r.w[i + t];
      buf[5][t] = r.off[i + t];
      for (int j = 0; j < P; ++j) buf[6 + j][t] = r.X[j * r.ld + i + t];
    }
    for (Index t = m; t < 4; ++t) buf[1][t] = buf[2][t] = 0.5;  // valid, weight 0
    alignas(32) double swb[4];
    for (int j = 0; j < P; ++j) xp[j] = buf[6 + j];
    rows4(buf[0], buf[1], buf[2], buf[3], buf[4], buf[5], xp, swb);
    for (Index t = 0; t < m; ++t) sw[i + t] = swb[t];
  }
  fl.bad = any_lane(bad);
  int k = 0;
  for (int a = 0; a <= P; ++a)
    for (int c = a; c <= P; ++c, ++k) g[a + c * (P + 1)] = hsum(acc[k]);
  return fl;
}

}  // namespace small_rows
}  // namespace rmodels
#endif
