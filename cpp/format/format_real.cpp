// R's formatReal, scientific, EncodeReal0, fround and fprec (see format_real.hpp).
#include "format_real.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace rmodels {

namespace {

// Powers of ten exactly representable in the 64-bit mantissa of an x87 long double: R fills
// its table kTbl[] from double literals (1e23..1e27 are not exact as doubles).
constexpr int kKpMax = 27;

// R's tbl[]: 10^0 .. 10^27 from double literals, in long double.
constexpr long double kTbl[kKpMax + 1] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11, 1e12, 1e13,
    1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22, 1e23, 1e24, 1e25, 1e26, 1e27};

// scientific() of R's format.c for r > 0: r = alpha 10^kpower with 1 <= alpha < 10 once
// rounded to `digits` significant digits; nsig the digits left without trailing zeros;
// widens when rounding reached the next power of ten that fixed notation would not reach.
struct Scientific {
  int kpower = 0;
  int nsig = 1;
  bool widens = false;
};

Scientific scientific_wide(double r, int digits) {  // digits >= 16: read off sprintf
  char buf[64];
  std::snprintf(buf, sizeof buf, "%#.*e", digits - 1, r);
  const char* e = std::strchr(buf, 'e');
  std::string mantissa;
  for (const char* c = buf; c < e; ++c)
    if (*c != '.') mantissa.push_back(*c);
  while (!mantissa.empty() && mantissa.back() == '0') mantissa.pop_back();
  Scientific s;
  s.kpower = std::atoi(e + 1);
  s.nsig = std::max(1, static_cast<int>(mantissa.size()));
  return s;
}

Scientific scientific(double r, int digits) {
  if (digits >= 16) return scientific_wide(r, digits);
  int kp = static_cast<int>(std::floor(std::log10(r))) - digits + 1;
  long double r_prec = r;
  if (std::abs(kp) <= kKpMax) {
    if (kp > 0)
      r_prec /= kTbl[kp];
    else if (kp < 0)
      r_prec *= kTbl[-kp];
  } else {
    r_prec /= std::pow(10.0L, static_cast<long double>(kp));
  }
  if (r_prec < kTbl[digits - 1]) {
    r_prec *= 10.0L;
    --kp;
  }
  auto alpha = static_cast<long long>(static_cast<double>(std::nearbyint(r_prec)));
  Scientific s;
  s.nsig = digits;
  for (int j = 0; j < digits && alpha % 10 == 0; ++j) {
    --s.nsig;
    alpha /= 10;
  }
  if (s.nsig == 0) {
    s.nsig = 1;
    ++kp;
  }
  s.kpower = kp + digits - 1;
  if (s.kpower > 0 && s.kpower <= kKpMax) {
    const int rgt = std::clamp(digits - s.kpower, 0, kKpMax);
    const double fuzz = 0.5 / static_cast<double>(kTbl[rgt]);
    s.widens = static_cast<long double>(r) < kTbl[s.kpower] - static_cast<long double>(fuzz);
  }
  return s;
}

// R's R_pow_di: x^n by repeated squaring in double precision.
double pow_di(double x, int n) {
  double xn = 1.0;
  if (n == 0) return xn;
  const bool negative = n < 0;
  if (negative) n = -n;
  for (;;) {
    if (n & 1) xn *= x;
    n >>= 1;
    if (n == 0) break;
    x *= x;
  }
  return negative ? 1.0 / xn : xn;
}

// The widths of the non-finite entries present.
int non_finite_width(const std::int8_t* kinds, std::ptrdiff_t n, int width, int na_width) {
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    switch (static_cast<NumberKind>(kinds[i])) {
      case NumberKind::NA:
        width = std::max(width, na_width);
        break;
      case NumberKind::NaN:
      case NumberKind::PosInf:
        width = std::max(width, 3);
        break;
      case NumberKind::NegInf:
        width = std::max(width, 4);
        break;
      default:
        break;
    }
  }
  return width;
}

}  // namespace

RealFormat format_real(const double* x, const std::int8_t* kinds, std::ptrdiff_t n, int digits,
                       int nsmall, int na_width, int scipen) {
  RealFormat f;
  bool any_finite = false, all_finite = true, neg = false;
  int rgt = INT_MIN, mxl = INT_MIN, mxsl = INT_MIN, mxns = INT_MIN, mnl = INT_MAX;
  for (std::ptrdiff_t i = 0; i < n; ++i) {
    if (static_cast<NumberKind>(kinds[i]) != NumberKind::Finite) {
      all_finite = false;
      continue;
    }
    any_finite = true;
    const double v = x[i];
    const Scientific s = v != 0.0 ? scientific(std::fabs(v), digits) : Scientific();
    const bool neg_i = v < 0.0;
    const int left = s.kpower + 1 - (s.widens ? 1 : 0);
    const int sleft = static_cast<int>(neg_i) + (left <= 0 ? 1 : left);
    neg |= neg_i;
    rgt = std::max(rgt, s.nsig - left);
    mxl = std::max(mxl, left);
    mnl = std::min(mnl, left);
    mxsl = std::max(mxsl, sleft);
    mxns = std::max(mxns, s.nsig);
  }
  if (any_finite) {
    if (mxl < 0) mxsl = 1 + static_cast<int>(neg);
    if (rgt < 0) rgt = 0;
    int wf = mxsl + rgt + (rgt != 0);
    f.exponent = (mxl > 100 || mnl <= -99) ? 2 : 1;
    f.decimals = mxns - 1;
    f.width = static_cast<int>(neg) + (f.decimals > 0) + f.decimals + 4 + f.exponent;
    if (wf <= f.width + scipen) {
      f.exponent = 0;
      if (nsmall > rgt) {
        rgt = nsmall;
        wf = mxsl + rgt + (rgt != 0);
      }
      f.decimals = rgt;
      f.width = wf;
    }
  }
  if (!all_finite) f.width = non_finite_width(kinds, n, f.width, na_width);
  return f;
}

std::string encode_real(double x, NumberKind kind, const RealFormat& f, const std::string& na) {
  const char* text = nullptr;
  switch (kind) {
    case NumberKind::Finite:
      break;
    case NumberKind::NA:
      text = na.c_str();
      break;
    case NumberKind::NaN:
      text = "NaN";
      break;
    case NumberKind::PosInf:
      text = "Inf";
      break;
    case NumberKind::NegInf:
      text = "-Inf";
      break;
  }
  if (text != nullptr) {
    std::string s(text);
    if (static_cast<int>(s.size()) < f.width) s.insert(0, f.width - s.size(), ' ');
    return s;
  }
  if (x == 0.0) x = 0.0;  // drop the sign of a negative zero
  const char* fmt = f.exponent ? (f.decimals ? "%#*.*e" : "%*.*e") : "%*.*f";
  char small[64];
  const int len = std::snprintf(small, sizeof small, fmt, f.width, f.decimals, x);
  if (len < static_cast<int>(sizeof small))
    return std::string(small, static_cast<std::size_t>(len));
  std::string big(static_cast<std::size_t>(len) + 1, '\0');
  std::snprintf(big.data(), big.size(), fmt, f.width, f.decimals, x);
  big.resize(static_cast<std::size_t>(len));
  return big;
}

double fround(double x, double digits) {
  if (std::isnan(x) || std::isnan(digits)) return x + digits;
  if (std::isinf(x)) return x;
  if (digits > 308 + 15 || x == 0.0) return x;
  if (digits < -308) return 0.0;
  if (digits == 0.0) return std::nearbyint(x);
  const int dig = static_cast<int>(std::floor(digits + 0.5));
  double sgn = 1.0;
  if (x < 0.0) {
    sgn = -1.0;
    x = -x;
  }
  int exp2 = 0;
  std::frexp(x, &exp2);
  const double l10x = 0.301029995663981195 * (0.5 + (exp2 - 1));
  if (l10x + dig > 15) return sgn * x;
  double x10, i10, xd, xu;
  if (dig <= 308) {
    const double pow10 = pow_di(10.0, dig);
    x10 = x * pow10;
    i10 = std::floor(x10);
    xd = i10 / pow10;
    xu = std::ceil(x10) / pow10;
  } else {
    const double p10 = pow_di(10.0, dig - 308), pow10 = pow_di(10.0, 308);
    x10 = (x * pow10) * p10;
    i10 = std::floor(x10);
    xd = i10 / pow10 / p10;
    xu = std::ceil(x10) / pow10 / p10;
  }
  const double du = xu - x, dd = x - xd;
  return sgn * ((du < dd || (std::fmod(i10, 2.0) == 1 && du == dd)) ? xu : xd);
}

double fprec(double x, double digits) {
  if (std::isnan(x) || std::isnan(digits)) return x + digits;
  if (std::isinf(x)) return x;
  if (std::isinf(digits)) {
    if (digits > 0) return x;
    digits = 1.0;
  }
  if (x == 0) return x;
  int dig = static_cast<int>(std::floor(std::fabs(digits) + 0.5)) * (digits >= 0 ? 1 : -1);
  if (dig > 22) return x;
  if (dig < 1) dig = 1;
  double sgn = 1.0;
  if (x < 0.0) {
    sgn = -sgn;
    x = -x;
  }
  const double l10 = std::log10(x);
  int e10 = static_cast<int>(dig - 1 - std::floor(l10));
  if (std::fabs(l10) < 308 - 2) {
    double p10 = 1.0;
    if (e10 > 308) {
      p10 = pow_di(10.0, e10 - 308);
      e10 = 308;
    }
    if (e10 > 0) {
      const double pow10 = pow_di(10.0, e10);
      return sgn * (std::nearbyint((x * pow10) * p10) / pow10) / p10;
    }
    const double pow10 = pow_di(10.0, -e10);
    return sgn * (std::nearbyint(x / pow10) * pow10);
  }
  const bool do_round = 308 - l10 >= pow_di(10.0, -dig);
  const int e2 = dig + (e10 > 0 ? 1 : -1) * 22;
  const double p10 = pow_di(10.0, e2);
  x *= p10;
  const double big_p10 = pow_di(10.0, e10 - e2);
  x *= big_p10;
  if (do_round) x += 0.5;
  x = std::floor(x) / p10;
  return sgn * x / big_p10;
}

}  // namespace rmodels
