// R's Mersenne-Twister, unif_rand and R_unif_index (see r_rng.hpp); the recurrence and the
// tempering are MT19937's (Matsumoto and Nishimura 1998) as R's MT_genrand codes them.
#include "r_rng.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace rmodels {

namespace {

constexpr int kN = 624;
constexpr int kM = 397;
constexpr std::uint32_t kMatrixA = 0x9908b0dfU;
constexpr std::uint32_t kUpper = 0x80000000U;
constexpr std::uint32_t kLower = 0x7fffffffU;
constexpr double kTwoM32 = 2.3283064365386963e-10;  // 2^-32
constexpr double kI2_32m1 = 2.328306437080797e-10;  // 1 / (2^32 - 1)
constexpr double kExactBelow = 9007199254740992.0;  // 2^53

std::uint32_t twist(std::uint32_t a, std::uint32_t b, std::uint32_t c) {
  const std::uint32_t y = (a & kUpper) | (b & kLower);
  return c ^ (y >> 1) ^ ((y & 1U) ? kMatrixA : 0U);
}

void regenerate(MersenneState& s) {
  auto& mt = s.mt;
  int kk = 0;
  for (; kk < kN - kM; ++kk) mt[kk] = twist(mt[kk], mt[kk + 1], mt[kk + kM]);
  for (; kk < kN - 1; ++kk) mt[kk] = twist(mt[kk], mt[kk + 1], mt[kk + (kM - kN)]);
  mt[kN - 1] = twist(mt[kN - 1], mt[0], mt[kM - 1]);
  s.mti = 0;
}

// rbits(bits): floor(bits / 16) + 1 uniforms, 16 bits each, masked to bits bits. The 16 bits
// floor(65536 * unif_rand()) of a word y are y >> 16 (unif_rand = y 2^-32, or a value below
// 2^-16 for y = 0), so they are taken from the word directly.
std::uint64_t rbits(MersenneState& s, int bits, std::uint64_t mask) {
  std::uint64_t v = 0;
  for (int n = 0; n <= bits; n += 16) v = (v << 16) | (mt_next_word(s) >> 16);
  return v & mask;  // the shifts wrap mod 2^64 as R's int_least64_t does in practice
}

int index_bits(double dn) { return static_cast<int>(std::ceil(std::log2(dn))); }

std::uint64_t bits_mask(int bits) {
  return bits >= 64 ? ~std::uint64_t{0} : ((std::uint64_t{1} << bits) - 1);
}

}  // namespace

std::uint32_t mt_next_word(MersenneState& s) {
  if (s.mti >= kN) regenerate(s);
  std::uint32_t y = s.mt[s.mti++];
  y ^= (y >> 11);
  y ^= (y << 7) & 0x9d2c5680U;
  y ^= (y << 15) & 0xefc60000U;
  y ^= (y >> 18);
  return y;
}

double unif_rand(MersenneState& s) {
  const double x = static_cast<double>(mt_next_word(s)) * kTwoM32;
  if (x <= 0.0) return 0.5 * kI2_32m1;
  if (1.0 - x <= 0.0) return 1.0 - 0.5 * kI2_32m1;
  return x;
}

double unif_index(MersenneState& s, double dn) {
  if (dn <= 0) return 0.0;
  const int bits = index_bits(dn);
  const std::uint64_t mask = bits_mask(bits);
  double dv;
  do {
    dv = static_cast<double>(rbits(s, bits, mask));
  } while (dn <= dv);
  return dv;
}

void unif_index_fill(MersenneState& s, double dn, std::int64_t size, std::int64_t* out) {
  if (dn <= 0) {
    std::fill(out, out + size, 0);
    return;
  }
  const int bits = index_bits(dn);
  const std::uint64_t mask = bits_mask(bits);
  std::int64_t i = 0;
  if (dn <= kExactBelow) {
    // Every candidate is written and the position advances only when it is accepted
    // (no unpredictable branch); the comparison is exact in integers (v < dn exactly when
    // v < ceil(dn) for dn below 2^53; candidates are below 2 dn).
    const std::uint64_t un = static_cast<std::uint64_t>(std::ceil(dn));
    while (i < size) {
      const std::uint64_t v = rbits(s, bits, mask);
      out[i] = static_cast<std::int64_t>(v);
      i += v < un ? 1 : 0;
    }
    return;
  }
  for (; i < size; ++i) {
    std::uint64_t v;
    do {
      v = rbits(s, bits, mask);
    } while (dn <= static_cast<double>(v));
    out[i] = static_cast<std::int64_t>(v);
  }
}

namespace {

// The column-filling loop of unif_index_by_column for K words per candidate.
template <int K>
void fill_by_column(MersenneState& s, std::uint64_t un, std::uint64_t mask, std::int64_t nrow,
                    std::int64_t ncol, std::int32_t* out) {
  const std::int64_t total = nrow * ncol;
  std::int64_t done = 0, row = 0, col = 0;
  std::int32_t* dst = out;
  while (done < total) {
    std::uint64_t v = 0;
    for (int w = 0; w < K; ++w) v = (v << 16) | (mt_next_word(s) >> 16);
    v &= mask;
    const std::int64_t ok = v < un ? 1 : 0;
    *dst = static_cast<std::int32_t>(v);  // overwritten by the next candidate if rejected
    done += ok;
    row += ok;
    dst += ok * ncol;
    if (row == nrow) {
      row = 0;
      ++col;
      dst = out + col;
    }
  }
}

}  // namespace

void unif_index_by_column(MersenneState& s, double dn, std::int64_t nrow, std::int64_t ncol,
                          std::int32_t* out) {
  if (nrow <= 0 || ncol <= 0) return;
  if (dn <= 0) {  // R_unif_index(0) draws nothing (R_unif_index(1) draws one word)
    std::fill(out, out + nrow * ncol, 0);
    return;
  }
  const int bits = index_bits(dn);
  const std::uint64_t mask = bits_mask(bits);
  const std::uint64_t un = static_cast<std::uint64_t>(std::ceil(dn));
  if (bits < 16) {
    fill_by_column<1>(s, un, mask, nrow, ncol, out);
  } else {
    fill_by_column<2>(s, un, mask, nrow, ncol, out);
  }
}

void sample_noreplace(MersenneState& s, std::int64_t n, std::int64_t size, std::int64_t* out) {
  std::vector<std::int64_t> x(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) x[static_cast<std::size_t>(i)] = i;
  std::int64_t left = n;
  for (std::int64_t i = 0; i < size; ++i) {
    const auto j = static_cast<std::size_t>(unif_index(s, static_cast<double>(left)));
    out[i] = x[j] + 1;
    x[j] = x[static_cast<std::size_t>(--left)];
  }
}

}  // namespace rmodels
