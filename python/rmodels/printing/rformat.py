"""R's number formatting and printing, reproduced to the character (R 4.2.2 conventions).

Usage (everything returns plain ``str`` / ``list[str]``; the ``print_*`` functions return the
exact text R prints, newline-terminated, so callers just concatenate):

>>> from rmodels import rformat as rf
>>> rf.format_num([251.40510485, 10.46728596])          # format(x) -> common format
['251.40510', ' 10.46729']
>>> rf.format_scalar(0.2421543, digits=4)                # format(x, digits = 4)
'0.2422'
>>> rf.formatC(3261.95, digits=4)                        # formatC(x, digits = 4)
' 3262'
>>> rf.format_pval([0.61, 1.57e-13], digits=3)           # format.pval
['0.61', '1.57e-13']
>>> rf.print_named_vector([1.5, -3.0], ["a", "b"])       # print(c(a = 1.5, b = -3))
'   a    b \\n 1.5 -3.0 \\n'

* ``format_num(x, digits=7, nsmall=0, width=None, drop0trailing=False, na="NA")`` = ``format()``
  of a numeric vector; ``format_scalar`` for one number; ``format_int``, ``format_str`` for
  integer / character vectors; ``formatC``; ``format_pval``; ``cat(*items)`` = the text of R's
  ``cat`` (Python ``float`` = R double, ``int`` = R integer).
* ``signif``, ``round_r`` (R's ``round(x, digits)``), ``zapsmall``, ``quantile7``,
  ``abbreviate`` (lme4's correlation labels).
* ``print_named_vector(values, names, digits=7, gap=1, na_print="NA")``; ``print.lm``
  coefficients: ``print_named_vector(format_num(coef, digits=4), names, gap=2)``; residual
  quantiles: ``print_named_vector(zapsmall(quantile7(res), 5), ["Min", "1Q", "Median", "3Q",
  "Max"], digits=4)``.
* ``print_matrix(cells, rownames, colnames, right=False)`` (character matrix; lme4 tables),
  ``print_numeric_matrix(x, rownames, colnames, digits=7)``.
* ``print_coefmat(table, colnames, rownames, digits=5, ...)`` (summary printers pass
  ``digits=4``; aliased rows are all-NA rows; no p column for lmer), ``print_anova(table,
  heading)``.

Missing values. A ``None`` or R's ``NA_real_`` bit pattern (:data:`NA_REAL`, which survives
numpy copies and rpy2 transfers) is R's ``NA``. Any other float NaN is taken as ``NA`` too unless
``nan_is_na=False`` is passed, in which case it prints as ``NaN`` like R's ``NaN``. Pass
``nan_is_na=False`` wherever R would hold a computed NaN (0/0: sigma, SEs, F of a fit with no
residual df) and mark true NAs (aliased coefficients) with ``NA_REAL`` in that case.

The numeric rules follow R's C code: ``formatReal``/``scientific`` (digits needed, fixed vs
scientific, the "rounding widens" check, 80-bit long double scaling reproduced with
``numpy.longdouble``), ``EncodeReal0`` (``sprintf`` output), ``fround``/``fprec`` (R 4 ``round``
and ``signif``), ``printNamedVector`` and ``printMatrix`` (layout and wrapping at ``width``), and
the R functions ``format.pval``, ``formatC``, ``printCoefmat``, ``print.anova``, ``zapsmall`` and
``quantile(type = 7)``.
"""

from __future__ import annotations

import math
import struct
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "NA_REAL",
    "SIGNIF_LEGEND",
    "abbreviate",
    "cat",
    "format_int",
    "format_num",
    "format_pval",
    "format_scalar",
    "format_str",
    "formatC",
    "is_na_real",
    "print_anova",
    "print_coefmat",
    "print_matrix",
    "print_named_vector",
    "print_numeric_matrix",
    "quantile7",
    "round_r",
    "signif",
    "str_width",
    "zapsmall",
]

#: R's ``NA_real_``: a quiet NaN whose low word is 1954.
NA_REAL: float = struct.unpack("<d", struct.pack("<Q", 0x7FF00000000007A2))[0]

#: The legend line printed under a coefficient table with significance stars.
SIGNIF_LEGEND = "Signif. codes:  0 \u2018***\u2019 0.001 \u2018**\u2019 0.01 \u2018*\u2019 0.05 " \
    "\u2018.\u2019 0.1 \u2018 \u2019 1"

DBL_EPSILON = 2.220446049250313e-16

# Kinds of entries of a numeric vector.
_FINITE, _NA, _NAN, _POSINF, _NEGINF = 0, 1, 2, 3, 4

# Powers of ten exactly representable in the 64-bit mantissa of an x87 long double (R's tbl[]).
_KP_MAX = 27
# R fills its table from double literals (1e23..1e27 are not exact as doubles).
_TBL = np.array([np.longdouble(float(f"1e{k}")) for k in range(_KP_MAX + 1)], dtype=np.longdouble)
_LD10 = np.longdouble(10)


# ---------------------------------------------------------------------------------------------
# Values and missingness
# ---------------------------------------------------------------------------------------------

def is_na_real(v: float) -> bool:
    """True iff ``v`` carries R's ``NA_real_`` payload (R's ``R_IsNA``: low word == 1954)."""
    if not isinstance(v, float) or v == v:
        return False
    return (struct.unpack("<Q", struct.pack("<d", v))[0] & 0xFFFFFFFF) == 1954


def _classify(x: Any, nan_is_na: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Float values and kinds (finite / NA / NaN / +Inf / -Inf) of a numeric vector."""
    if isinstance(x, np.ndarray) and x.dtype.kind in "fiub":
        arr = np.asarray(x, dtype=np.float64).ravel()
        vals = arr.copy()
        isnan = np.isnan(vals)
        kinds = np.zeros(vals.shape, dtype=np.int8)
        if isnan.any():
            bits = vals.view(np.uint64)
            na_bits = (bits & np.uint64(0xFFFFFFFF)) == np.uint64(1954)
            kinds[isnan] = _NAN
            kinds[isnan & (na_bits | nan_is_na)] = _NA
    else:
        seq = [x] if np.isscalar(x) or x is None else list(np.asarray(x, dtype=object).ravel())
        vals = np.empty(len(seq), dtype=np.float64)
        kinds = np.zeros(len(seq), dtype=np.int8)
        for i, v in enumerate(seq):
            if v is None or _is_pandas_na(v):
                vals[i] = np.nan
                kinds[i] = _NA
                continue
            f = float(v)
            vals[i] = f
            if f != f:
                kinds[i] = _NA if (nan_is_na or is_na_real(f)) else _NAN
    inf = np.isinf(vals)
    kinds[inf & (vals > 0)] = _POSINF
    kinds[inf & (vals < 0)] = _NEGINF
    return vals, kinds


def _is_pandas_na(v: Any) -> bool:
    return type(v).__name__ in ("NAType", "NaTType")


# ---------------------------------------------------------------------------------------------
# formatReal
# ---------------------------------------------------------------------------------------------

def _scientific(r: np.ndarray, digits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """R's ``scientific()`` for positive finite ``r``: (kpower, nsig, roundingwidens).

    |x| = alpha * 10^kpower with 1 <= alpha < 10 after rounding to ``digits`` significant digits;
    nsig = significant digits left once trailing zeros are dropped. R scales by a power of ten in
    long double and rounds half-even (``nearbyintl``); for digits >= 16 it reads the digits off
    ``sprintf("%#.*e")`` instead.
    """
    n = r.shape[0]
    if n == 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z, np.zeros(0, dtype=bool)
    if digits >= 16:
        kpower = np.empty(n, dtype=np.int64)
        nsig = np.empty(n, dtype=np.int64)
        for i, v in enumerate(r):
            mant, ex = ("%#.*e" % (digits - 1, v)).split("e")  # noqa: UP031 (C sprintf)
            kpower[i] = int(ex)
            nsig[i] = max(1, len(mant.replace(".", "").rstrip("0")))
        return kpower, nsig, np.zeros(n, dtype=bool)
    kp = np.array([math.floor(math.log10(v)) for v in r], dtype=np.int64) - digits + 1
    r_prec = r.astype(np.longdouble)
    small = np.abs(kp) <= _KP_MAX
    pos = small & (kp > 0)
    neg = small & (kp < 0)
    r_prec[pos] = r_prec[pos] / _TBL[kp[pos]]
    r_prec[neg] = r_prec[neg] * _TBL[-kp[neg]]
    big = ~small
    if big.any():
        r_prec[big] = r_prec[big] / np.power(_LD10, kp[big].astype(np.longdouble))
    low = r_prec < _TBL[digits - 1]
    r_prec[low] = r_prec[low] * _LD10
    kp[low] -= 1
    alpha = np.rint(r_prec).astype(np.float64).astype(np.int64)
    nsig = np.full(n, digits, dtype=np.int64)
    going = np.ones(n, dtype=bool)
    for _ in range(digits):
        z = going & (alpha % 10 == 0)
        if not z.any():
            break
        nsig[z] -= 1
        alpha[z] //= 10
        going = z
    allzero = nsig == 0
    nsig[allzero] = 1
    kp[allzero] += 1
    kpower = kp + digits - 1
    rgt = np.clip(digits - kpower, 0, _KP_MAX)
    fuzz = 0.5 / _TBL[rgt].astype(np.float64)
    inrange = (kpower > 0) & (kpower <= _KP_MAX)
    lim = _TBL[np.clip(kpower, 0, _KP_MAX)] - fuzz.astype(np.longdouble)
    widens = inrange & (r.astype(np.longdouble) < lim)
    return kpower, nsig, widens


def _scientific1(r: float, digits: int) -> tuple[int, int, bool]:
    """:func:`_scientific` for one number (numpy scalars; faster for short vectors)."""
    if digits >= 16:
        mant, ex = ("%#.*e" % (digits - 1, r)).split("e")  # noqa: UP031 (C sprintf)
        return int(ex), max(1, len(mant.replace(".", "").rstrip("0"))), False
    kp = math.floor(math.log10(r)) - digits + 1
    r_prec = np.longdouble(r)
    if abs(kp) <= _KP_MAX:
        if kp > 0:
            r_prec = r_prec / _TBL[kp]
        elif kp < 0:
            r_prec = r_prec * _TBL[-kp]
    else:
        r_prec = r_prec / np.power(_LD10, np.longdouble(kp))
    if r_prec < _TBL[digits - 1]:
        r_prec = r_prec * _LD10
        kp -= 1
    alpha = int(float(np.rint(r_prec)))
    nsig = digits
    while nsig > 0 and alpha % 10 == 0:
        nsig -= 1
        alpha //= 10
    if nsig == 0:
        nsig = 1
        kp += 1
    kpower = kp + digits - 1
    rgt = min(max(digits - kpower, 0), _KP_MAX)
    fuzz = 0.5 / float(_TBL[rgt])
    widens = 0 < kpower <= _KP_MAX and bool(np.longdouble(r) < _TBL[kpower] - np.longdouble(fuzz))
    return kpower, nsig, widens


def _format_real(vals: np.ndarray, kinds: np.ndarray, digits: int, nsmall: int = 0,
                 na_width: int = 2, scipen: int = 0) -> tuple[int, int, int]:
    """R's ``formatReal``: common (width, decimals, exponent-flag) of a numeric vector."""
    x = vals[kinds == _FINITE].tolist()
    w = d = e = 0
    if x:
        nonzero = [abs(v) for v in x if v != 0.0]
        if len(nonzero) <= 16:
            sci = [_scientific1(v, digits) for v in nonzero]
        else:
            kp_a, ns_a, rw_a = _scientific(np.array(nonzero), digits)
            sci = list(zip(kp_a.tolist(), ns_a.tolist(), rw_a.tolist()))
        it = iter(sci)
        neg = 0
        rgt = mxl = mxsl = mxns = -(2**31)
        mnl = 2**31
        for v in x:
            kpower, nsig, widens = next(it) if v != 0.0 else (0, 1, False)
            neg_i = 1 if v < 0.0 else 0
            left = kpower + 1 - (1 if widens else 0)
            sleft = neg_i + (1 if left <= 0 else left)
            right = nsig - left
            neg |= neg_i
            rgt = max(rgt, right)
            mxl = max(mxl, left)
            mnl = min(mnl, left)
            mxsl = max(mxsl, sleft)
            mxns = max(mxns, nsig)
        if mxl < 0:
            mxsl = 1 + neg
        if rgt < 0:
            rgt = 0
        wf = mxsl + rgt + (rgt != 0)
        e = 2 if (mxl > 100 or mnl <= -99) else 1
        d = mxns - 1
        w = neg + (d > 0) + d + 4 + e
        if wf <= w + scipen:
            e = 0
            if nsmall > rgt:
                rgt = nsmall
                wf = mxsl + rgt + (rgt != 0)
            d = rgt
            w = wf
    if (kinds == _NA).any() and w < na_width:
        w = na_width
    if (kinds == _NAN).any() and w < 3:
        w = 3
    if (kinds == _POSINF).any() and w < 3:
        w = 3
    if (kinds == _NEGINF).any() and w < 4:
        w = 4
    return w, d, e


def _encode_real(v: float, kind: int, w: int, d: int, e: int, na: str = "NA") -> str:
    """R's ``EncodeReal0``: one number in the common format (C ``sprintf``)."""
    if kind != _FINITE:
        s = {_NA: na, _NAN: "NaN", _POSINF: "Inf", _NEGINF: "-Inf"}[kind]
        return s.rjust(w)
    if v == 0.0:
        v = 0.0  # drop the sign of a negative zero
    if e:
        if d:
            return "%#*.*e" % (w, d, v)  # noqa: UP031 (C sprintf)
        return "%*.*e" % (w, d, v)  # noqa: UP031
    return "%*.*f" % (w, d, v)  # noqa: UP031


def format_num(x: Any, digits: int = 7, nsmall: int = 0, width: int | None = None,
               drop0trailing: bool = False, na: str = "NA", nan_is_na: bool = True,
               trim: bool = False, scipen: int = 0) -> list[str]:
    """R's ``format()`` of a numeric vector: one common format, right-justified.

    Each element needs the fewest significant digits (at most ``digits``) that represent it to
    ``digits`` significant digits; fixed notation is used when its width is not larger than the
    scientific width (+ ``scipen``); decimals are the maximum needed by any element (at least
    ``nsmall`` in fixed notation). NA / NaN / Inf / -Inf print as such. ``trim=True`` drops the
    padding; ``drop0trailing`` strips trailing zeros as ``prettyNum`` does (strings may then have
    different widths, as in R).
    """
    if digits < 1 or digits > 22:
        raise ValueError("digits must be in 1..22")
    vals, kinds = _classify(x, nan_is_na)
    w, d, e = _format_real(vals, kinds, digits, nsmall, na_width=len(na), scipen=scipen)
    if trim:
        w = 0
    if width is not None:
        w = max(w, int(width))
    out = [_encode_real(float(v), int(k), w, d, e, na) for v, k in zip(vals, kinds)]
    if drop0trailing:
        out = _drop0trailing(out)
    return out


def _drop0trailing(xs: list[str]) -> list[str]:
    """``prettyNum(drop0trailing = TRUE)``: trailing zeros of the decimals, ``e+00`` suffixes."""
    out = []
    for s in xs:
        parts = s.split(".")
        if len(parts) < 2:
            out.append(s)
            continue
        before, after = ".".join(parts[:-1]), parts[-1]
        out.append((before, after))
    has_e = [isinstance(p, tuple) and "e" in p[1] for p in out]
    res = []
    for p, he in zip(out, has_e):
        if not isinstance(p, tuple):
            res.append(p)
            continue
        before, after = p
        if any(has_e):
            if he:
                after = _re_sub_exp_zero(after)
            else:
                after = after.rstrip("0")
        else:
            after = after.rstrip("0")
        res.append(before + ("." + after if after else ""))
    return res


def _re_sub_exp_zero(a: str) -> str:
    # sub("e[+-]0+$", "", a)
    i = a.find("e")
    tail = a[i + 1:]
    if len(tail) >= 2 and tail[0] in "+-" and set(tail[1:]) == {"0"}:
        return a[:i]
    return a


def format_scalar(x: Any, digits: int = 7, nsmall: int = 0, **kwargs: Any) -> str:
    """``format(x, digits = digits)`` of a single number (no padding involved)."""
    return format_num([x], digits=digits, nsmall=nsmall, **kwargs)[0]


def format_int(x: Any, width: int | None = None, na: str = "NA") -> list[str]:
    """R's ``format()`` of an integer vector (``formatInteger``): right-justified to a common
    width (``NA`` counts 2)."""
    vals, kinds = _classify(x, True)
    strs = [na if k != _FINITE else str(int(v)) for v, k in zip(vals, kinds)]
    w = max([len(s) for s in strs] + [1 if strs else 0])
    if width is not None:
        w = max(w, int(width))
    return [s.rjust(w) for s in strs]


def str_width(s: str) -> int:
    """Display width of a string as R's ``Rstrwid`` counts it (East Asian wide = 2,
    combining marks = 0)."""
    if s.isascii():
        return len(s)
    wd = 0
    for ch in s:
        if unicodedata.combining(ch):
            continue
        wd += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return wd


def _pad(s: str, w: int, right: bool) -> str:
    gap = w - str_width(s)
    if gap <= 0:
        return s
    return " " * gap + s if right else s + " " * gap


def format_str(x: Sequence[str | None], width: int | None = None, justify: str = "left",
               na: str = "NA") -> list[str]:
    """R's ``format()`` of a character vector: padded to the common display width
    (``justify`` = "left", "right", "centre" or "none")."""
    strs = [na if s is None else s for s in x]
    if justify == "none":
        return strs
    w = max([str_width(s) for s in strs] + [int(width or 0)])
    out = []
    for s in strs:
        if justify == "centre":
            extra = w - str_width(s)
            lft = extra // 2
            out.append(" " * lft + s + " " * (extra - lft))
        else:
            out.append(_pad(s, w, justify == "right"))
    return out


# ---------------------------------------------------------------------------------------------
# round / signif / zapsmall / quantile
# ---------------------------------------------------------------------------------------------

def _pow_di(x: float, n: int) -> float:
    """R's ``R_pow_di``: x^n by repeated squaring in double precision."""
    xn = 1.0
    if n != 0:
        is_neg = n < 0
        if is_neg:
            n = -n
        while True:
            if n & 1:
                xn *= x
            n >>= 1
            if n:
                x *= x
            else:
                break
        if is_neg:
            xn = 1.0 / xn
    return xn


def _fround(x: float, digits: float) -> float:
    """R 4's ``fround``: the nearer of the two ``digits``-decimal neighbours of x
    (ties to the even last digit)."""
    if math.isnan(x) or math.isnan(digits):
        return x + digits
    if math.isinf(x):
        return x
    if digits > 308 + 15 or x == 0.0:
        return x
    if digits < -308:
        return 0.0
    if digits == 0.0:
        return float(np.rint(x))
    dig = int(math.floor(digits + 0.5))
    sgn = 1.0
    if x < 0.0:
        sgn = -1.0
        x = -x
    l10x = 0.301029995663981195 * (0.5 + (math.frexp(x)[1] - 1))
    if l10x + dig > 15:
        return sgn * x
    if dig <= 308:
        pow10 = _pow_di(10.0, dig)
        x10 = x * pow10
        i10 = math.floor(x10)
        xd = i10 / pow10
        xu = math.ceil(x10) / pow10
    else:
        e10 = dig - 308
        p10 = _pow_di(10.0, e10)
        pow10 = _pow_di(10.0, 308)
        x10 = (x * pow10) * p10
        i10 = math.floor(x10)
        xd = i10 / pow10 / p10
        xu = math.ceil(x10) / pow10 / p10
    du = xu - x
    dd = x - xd
    return sgn * (xu if (du < dd or (math.fmod(i10, 2.0) == 1 and du == dd)) else xd)


def round_r(x: Any, digits: float = 0) -> Any:
    """R's ``round(x, digits)`` (R >= 4.0 algorithm); scalar in, scalar out; arrays elementwise.
    A non-integer ``digits`` is rounded to the nearest integer (x.5 up)."""
    if np.isscalar(x):
        return _fround(float(x), float(digits))
    arr = np.asarray(x, dtype=np.float64)
    out = np.array([_fround(float(v), float(digits)) for v in arr.ravel()], dtype=np.float64)
    return out.reshape(arr.shape)


def _fprec(x: float, digits: float) -> float:
    """R's ``fprec`` (``signif``)."""
    if math.isnan(x) or math.isnan(digits):
        return x + digits
    if math.isinf(x):
        return x
    if math.isinf(digits):
        if digits > 0:
            return x
        digits = 1.0
    if x == 0:
        return x
    dig = int(math.floor(abs(digits) + 0.5)) * (1 if digits >= 0 else -1)  # C round()
    if dig > 22:
        return x
    if dig < 1:
        dig = 1
    sgn = 1.0
    if x < 0.0:
        sgn = -sgn
        x = -x
    l10 = math.log10(x)
    e10 = int(dig - 1 - math.floor(l10))
    if abs(l10) < 308 - 2:
        p10 = 1.0
        if e10 > 308:
            p10 = _pow_di(10.0, e10 - 308)
            e10 = 308
        if e10 > 0:
            pow10 = _pow_di(10.0, e10)
            return sgn * (float(np.rint((x * pow10) * p10)) / pow10) / p10
        pow10 = _pow_di(10.0, -e10)
        return sgn * (float(np.rint(x / pow10)) * pow10)
    do_round = 308 - l10 >= _pow_di(10.0, -dig)
    e2 = dig + (1 if e10 > 0 else -1) * 22
    p10 = _pow_di(10.0, e2)
    x *= p10
    big_p10 = _pow_di(10.0, e10 - e2)
    x *= big_p10
    if do_round:
        x += 0.5
    x = math.floor(x) / p10
    return sgn * x / big_p10


def signif(x: Any, digits: int = 6) -> Any:
    """R's ``signif(x, digits)``; scalar in, scalar out; arrays elementwise."""
    if np.isscalar(x):
        return _fprec(float(x), float(digits))
    arr = np.asarray(x, dtype=np.float64)
    out = np.array([_fprec(float(v), float(digits)) for v in arr.ravel()], dtype=np.float64)
    return out.reshape(arr.shape)


def zapsmall(x: Any, digits: int = 7) -> np.ndarray:
    """R's ``zapsmall``: ``round(x, max(0, digits - log10(max|x|)))`` over the non-NA values."""
    arr = np.asarray(x, dtype=np.float64)
    ina = np.isnan(arr)
    if ina.all():
        return arr.copy()
    mx = float(np.max(np.abs(arr[~ina])))
    dg = max(0.0, digits - math.log10(mx)) if mx > 0 else float(digits)
    return round_r(arr, dg)


def quantile7(x: Any, probs: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 1.0),
              na_rm: bool = False) -> np.ndarray:
    """R's ``quantile(x, probs, type = 7)``: with h = 1 + (n-1)p, lo = floor(h), hi = ceil(h),
    q = (1 - (h-lo)) x_(lo) + (h-lo) x_(hi) (only when h > lo and x_(hi) != x_(lo))."""
    xs = np.sort(np.asarray(x, dtype=np.float64).ravel())
    if na_rm:
        xs = xs[~np.isnan(xs)]
    if np.isnan(xs).any():
        raise ValueError("missing values and NaN's not allowed if 'na.rm' is FALSE")
    p = np.clip(np.asarray(probs, dtype=np.float64), 0.0, 1.0)
    n = xs.size
    if n == 0:
        return np.full(p.shape, np.nan)
    index = 1 + max(n - 1, 0) * p
    lo = np.floor(index).astype(np.int64)
    hi = np.ceil(index).astype(np.int64)
    qs = xs[lo - 1].copy()
    xhi = xs[hi - 1]
    i = (index > lo) & (xhi != qs)
    h = (index - lo)[i]
    qs[i] = (1 - h) * qs[i] + h * xhi[i]
    return qs


# ---------------------------------------------------------------------------------------------
# formatC and format.pval
# ---------------------------------------------------------------------------------------------

def formatC(x: Any, digits: int | None = None, width: int | None = None,  # noqa: N802
            format: str | None = None, flag: str = "", mode: str | None = None,
            nan_is_na: bool = True) -> list[str] | str:
    """R's ``formatC`` (formats "d", "f", "e", "E", "g", "G", "fg"; C ``sprintf`` per element).

    Defaults as R: ``format`` "g" for doubles ("d" for ``mode="integer"``); ``width`` NULL means
    ``digits + 1`` (so ``formatC(3261.95, digits=4)`` is ``" 3262"``), ``width=0`` means
    ``digits``; ``digits`` NULL with ``width`` NULL gives width 1 and 4 digits. A scalar input
    returns a string, a sequence a list of strings. Non-finite values print as
    ``NA``/``NaN``/``Inf``/``-Inf`` padded to ``width``.
    """
    scalar = np.isscalar(x)
    vals, kinds = _classify([x] if scalar else x, nan_is_na)
    for ch in flag:
        if ch not in "0+- #":
            raise ValueError("flag should contain only characters from [0+- #]")
    if mode is None:
        is_int = isinstance(x, (int, np.integer)) and not isinstance(x, bool) if scalar else (
            isinstance(x, np.ndarray) and x.dtype.kind in "iu")
        mode = "integer" if is_int else "double"
    if format is None:
        format = "d" if mode == "integer" else "g"
    elif format in ("f", "e", "E", "g", "G", "fg"):
        mode = "double"
    elif format == "d":
        mode = "integer"
    else:
        raise ValueError('format must be one of "f","e","E","g","G","fg","d"')
    if width is None and digits is None:
        width = 1
    if digits is None:
        digits = 2 if mode == "integer" else 4
    elif digits < 0:
        digits = 6
    if width is None:
        width = digits + 1
    elif width == 0:
        width = digits
    dig = digits
    if digits > 0 and "#" in flag:
        dig = -digits
    out = []
    for v, k in zip(vals, kinds):
        if k != _FINITE:
            s = {_NA: "NA", _NAN: "NaN", _POSINF: "Inf", _NEGINF: "-Inf"}[int(k)]
            w = abs(width)
            out.append(s.ljust(w) if (width < 0 or flag == "-") else s.rjust(w))
            continue
        out.append(_str_signif(float(v), mode, width, dig, format, flag))
    return out[0] if scalar else out


def _str_signif(x: float, mode: str, width: int, digits: int, fmt: str, flag: str) -> str:
    """One element of R's C ``str_signif``."""
    dig = abs(digits)
    rm_trailing_0 = digits >= 0
    if fmt == "d":
        return ("%" + flag + "*d") % (width, int(x))
    if fmt != "fg":
        return ("%" + flag + "*.*" + fmt) % (width, dig, x)
    if x == 0.0:
        return "0"
    xxx = abs(x)
    iex = int(math.floor(math.log10(xxx) + 1e-12))
    big_x = _fround(xxx / 10.0 ** iex + 1e-12, float(dig - 1))
    xx = x
    if iex > 0 and big_x >= 10:
        xx = big_x * 10.0 ** iex
        iex += 1
    if iex == -4 and abs(xx) < 1e-4:
        iex = -5
    if iex < -4:
        s = ("%" + flag + ".*f") % (dig - 1 + -iex, xx)
        if rm_trailing_0:
            s = s.rstrip("0")
        return s
    return ("%" + flag + "*.*g") % (width, (iex + 1) if iex >= dig else dig, xx)


def format_pval(pv: Any, digits: int = 5, eps: float = DBL_EPSILON,
                na_form: str = "NA") -> list[str]:
    """R's ``format.pval``: p >= eps formatted in two groups (``expo >= -3``, or ``-4`` when
    digits > 1, in fixed notation; the rest), each with ``format(., digits)``; p < eps as
    ``"<" + sep + format(eps, digits = max(1, digits - 2))`` with R's width rule; NA as
    ``na_form``."""
    vals, kinds = _classify(pv, True)
    ina = (kinds == _NA) | (kinds == _NAN)
    p = vals[~ina]
    is0 = p < eps
    r = [""] * p.size
    rr: list[str] = []
    if (~is0).any():
        idx = np.flatnonzero(~is0)
        q = p[idx]
        expo = np.array([math.floor(math.log10(v if v > 0 else 1e-50)) for v in q])
        fixp = (expo >= -3) | ((expo == -4) & (digits > 1))
        rr = [""] * q.size
        for grp in (fixp, ~fixp):
            if grp.any():
                strs = format_num(q[grp], digits=digits)
                for j, s in zip(np.flatnonzero(grp), strs):
                    rr[j] = s
        for j, s in zip(idx, rr):
            r[j] = s
    if is0.any():
        dg = max(1, digits - 2)
        if (~is0).any():
            nc = max(str_width(s) for s in rr)
            if dg > 1 and dg + 6 > nc:
                dg = max(1, nc - 7)
            sep = "" if (dg == 1 and nc <= 6) else " "
        else:
            sep = "" if dg == 1 else " "
        txt = "<" + sep + format_scalar(eps, digits=dg)
        for j in np.flatnonzero(is0):
            r[j] = txt
    out = [na_form] * vals.size
    for j, s in zip(np.flatnonzero(~ina), r):
        out[j] = s
    return out


# ---------------------------------------------------------------------------------------------
# Printing: named vectors and matrices
# ---------------------------------------------------------------------------------------------

def print_named_vector(values: Any, names: Sequence[str], digits: int = 7, gap: int = 1,
                       right: bool = True, quote: bool = False, width: int = 80,
                       nan_is_na: bool = True, na_print: str = "NA") -> str:
    """Text of R's ``print()`` of a named vector (``printNamedVector``).

    Numeric values are formatted jointly with ``digits``; a sequence of ``str`` is printed as a
    character vector (right-justified, quoted if ``quote``). Column width w = max(value widths,
    name widths); each name and each value is right-justified in w and followed by ``gap``
    spaces; floor(width / (w + gap)) columns per line, a names line above each values line.
    ``na_print`` is R's ``na.print`` (``""`` in ``print.summary.glm``; it also sets the width
    an NA needs). (``right`` is accepted for symmetry with ``print_matrix``; R always
    right-justifies here.)
    """
    del right
    names = [("<NA>" if s is None else s) for s in names]
    vals_list = list(np.asarray(values, dtype=object).ravel())
    if len(vals_list) != len(names):
        raise ValueError("values and names differ in length")
    n = len(names)
    if n == 0:
        return "named numeric(0)\n"
    is_char = any(isinstance(v, str) for v in vals_list)
    if is_char:
        if quote:
            cells = ["NA" if v is None else '"' + v + '"' for v in vals_list]
        else:
            cells = ["<NA>" if v is None else v for v in vals_list]
        w = max(str_width(c) for c in cells)
    else:
        cells = format_num(vals_list, digits=digits, nan_is_na=nan_is_na, na=na_print)
        w = len(cells[0]) if cells else 0
    w = max([w] + [str_width(s) for s in names])
    per = width // (w + gap)
    if per <= 0:
        per = 1
    lines = []
    sp = " " * gap
    for start in range(0, n, per):
        stop = min(n, start + per)
        lines.append("".join(_pad(names[k], w, True) + sp for k in range(start, stop)))
        lines.append("".join(_pad(cells[k], w, True) + sp for k in range(start, stop)))
    return "\n".join(lines) + "\n"


def _index_width(n: int) -> int:
    return int(math.log10(n + 0.5) + 1)


def print_vector(values: Any, digits: int = 7, gap: int = 1, width: int = 80,
                 nan_is_na: bool = True, na_print: str = "NA") -> str:
    """Text of R's ``print()`` of an unnamed numeric vector (``printVector``): ``[k]`` labels
    right-justified to the widest index, values formatted jointly with ``digits``, each
    right-justified in its width plus ``gap``, a new line when the next value would pass
    ``width``."""
    vals = list(np.asarray(values, dtype=object).ravel())
    n = len(vals)
    if n == 0:
        return "numeric(0)\n"
    cells = format_num(vals, digits=digits, nan_is_na=nan_is_na, na=na_print)
    w = max(str_width(c) for c in cells) + gap
    labwidth = _index_width(n) + 2

    def label(i: int) -> str:
        return " " * (labwidth - _index_width(i) - 2) + f"[{i}]"

    out = label(1)
    used = labwidth
    for i, c in enumerate(cells):
        if i > 0 and used + w > width:
            out += "\n" + label(i + 1)
            used = labwidth
        out += _pad(c, w, True)
        used += w
    return out + "\n"


def print_matrix(cells: Any, rownames: Sequence[str] | None = None,
                 colnames: Sequence[str] | None = None, right: bool = False,
                 quote: bool = False, gap: int = 1, width: int = 80,
                 na_print: str | None = None, _numeric: bool = False) -> str:
    """Text of R's ``print()`` of a character matrix (``printMatrix``, string case).

    Row names left-justified in the widest row name; each column is preceded by ``gap`` spaces
    and padded to max(header width, widest cell), right- or left-justified (headers too). When a
    line would reach ``width``, the remaining columns continue in a further block with the row
    names repeated. ``None`` cells print as ``na_print`` (R: ``<NA>``, or ``NA`` when quoted).
    """
    rows = [list(r) for r in cells]
    nr = len(rows)
    nc = len(colnames) if colnames is not None else (len(rows[0]) if rows else 0)
    if na_print is None:
        na_print = "NA" if quote else "<NA>"

    def enc(s: str | None) -> str:
        if s is None:
            return na_print
        return '"' + s + '"' if quote else s

    grid = [[enc(rows[i][j]) for j in range(nc)] for i in range(nr)]
    if rownames is not None:
        rlab = [("<NA>" if s is None else s) for s in rownames]
        rlabw = max([str_width(s) for s in rlab] + [0])
    else:
        rlab = None
        rlabw = _index_width(nr + 1) + 3
    colw = []
    for j in range(nc):
        wj = max([str_width(grid[i][j]) for i in range(nr)] + [0])
        clabw = str_width(colnames[j]) if colnames is not None else _index_width(j + 1) + 3
        colw.append(max(wj, clabw))
    out: list[str] = []
    sp = " " * gap
    if nc == 0:
        out.append(" " * rlabw)
        for i in range(nr):
            out.append("\n" + (_pad(rlab[i], rlabw, False) if rlab else
                               f"[{i + 1},]".rjust(rlabw)))
        return "".join(out) + "\n"
    jmin = 0
    while jmin < nc:
        tot = rlabw
        jmax = jmin
        while True:
            tot += colw[jmax] + gap
            jmax += 1
            if not (jmax < nc and tot + colw[jmax] + gap < width):
                break
        out.append(" " * rlabw)
        for j in range(jmin, jmax):
            if colnames is not None:
                out.append(sp + _pad(colnames[j], colw[j], right))
            else:
                lab = f"[,{j + 1}]"
                out.append(sp + (lab.rjust(colw[j]) if _numeric else lab.ljust(colw[j])))
        for i in range(nr):
            out.append("\n" + (_pad(rlab[i], rlabw, False) if rlab is not None else
                               f"[{i + 1},]".rjust(rlabw)))
            for j in range(jmin, jmax):
                out.append(sp + _pad(grid[i][j], colw[j], right))
        out.append("\n")
        jmin = jmax
    return "".join(out)


def print_numeric_matrix(x: Any, rownames: Sequence[str] | None = None,
                         colnames: Sequence[str] | None = None, digits: int = 7,
                         gap: int = 1, width: int = 80, nan_is_na: bool = True) -> str:
    """Text of R's ``print()`` of a numeric matrix (``printRealMatrix``): each column formatted
    on its own with ``digits`` (``format_num``), entries and headers right-justified, wrapped at
    ``width`` like :func:`print_matrix`."""
    arr = np.asarray(x, dtype=object)
    if arr.ndim != 2:
        raise ValueError("'x' must be a matrix")
    cols = [format_num(arr[:, j], digits=digits, nan_is_na=nan_is_na)
            for j in range(arr.shape[1])]
    cells = [[cols[j][i] for j in range(arr.shape[1])] for i in range(arr.shape[0])]
    return print_matrix(cells, rownames, colnames, right=True, gap=gap, width=width,
                        _numeric=True)


def cat(*items: Any, sep: str = " ", nan_is_na: bool = True) -> str:
    """Text of R's ``cat(...)`` (a newline only where an item contains one).

    Every element is converted on its own: a Python ``float`` like an R double (at most 7
    significant digits, R's scientific rule, so ``1e5`` gives ``1e+05``), an ``int`` like an R
    integer (plain digits), ``bool`` as ``TRUE``/``FALSE``, ``None``/NA as ``NA``, ``str``
    unchanged; lists/tuples/arrays contribute each element. Elements are joined by ``sep``.
    """
    parts: list[str] = []
    for item in items:
        seq = item if isinstance(item, (list, tuple, np.ndarray)) else [item]
        for v in np.asarray(seq, dtype=object).ravel() if isinstance(seq, np.ndarray) else seq:
            if isinstance(v, str):
                parts.append(v)
            elif isinstance(v, (bool, np.bool_)):
                parts.append("TRUE" if v else "FALSE")
            elif isinstance(v, (int, np.integer)):
                parts.append(str(int(v)))
            else:
                parts.append(format_num([v], digits=7, nan_is_na=nan_is_na, trim=True)[0])
    return sep.join(parts)


_C_SPACE = " \t\n\v\f\r"


def _stripchars(word: str, minlen: int, usecl: bool) -> str:
    """R's C ``stripchars`` (ASCII): drop characters from the end towards the front, in the
    order lower-case vowels ending a word, other lower-case vowels not starting a word,
    lower-case letters ending a word, other lower-case letters, then anything not starting a
    word, until ``minlen`` characters (not counting inner spaces) remain."""
    s = list(word)
    nspace = 0

    def at(i: int) -> str:
        return s[i] if 0 <= i < len(s) else "\0"

    def first(i: int) -> bool:
        return at(i - 1) in _C_SPACE

    def last(i: int) -> bool:
        return at(i - 1) not in _C_SPACE and (at(i + 1) == "\0" or at(i + 1) in _C_SPACE)

    def short() -> bool:
        return len(s) - nspace <= minlen

    def finish() -> str:
        if len(s) > minlen:
            for i in range(len(s) - 1, 0, -1):
                if s[i] in _C_SPACE:
                    del s[i]
        return "".join(s)

    if len(s) < minlen:
        return finish()
    trailing = True
    for i in range(len(s) - 1, 0, -1):
        if s[i] in _C_SPACE:
            if trailing:
                del s[i:]
            else:
                nspace += 1
        else:
            trailing = False
        if short():
            return finish()
    passes = []
    if usecl:
        passes = [lambda i: at(i) in "aeiou" and last(i),
                  lambda i: at(i) in "aeiou" and not first(i),
                  lambda i: at(i).islower() and at(i).isascii() and last(i),
                  lambda i: at(i).islower() and at(i).isascii() and not first(i)]
    passes.append(lambda i: not first(i) and at(i) not in _C_SPACE)
    for drop in passes:
        for i in range(len(s) - 1, 0, -1):
            if drop(i):
                del s[i]
            if short():
                return finish()
    return finish()


def abbreviate(names: Sequence[str], minlength: int = 4, use_classes: bool = True) -> list[str]:
    """R's ``abbreviate(names, minlength)`` (default method "left.kept", ASCII names): each
    name shortened by :func:`_stripchars`; while abbreviations collide, ``minlength`` grows by
    one for the colliding names. (lme4 uses minlength 11 for the row and 6 for the column
    names of the fixed-effects correlation: ``(Intercept)`` -> ``(Intr)``.)"""
    if minlength <= 0:
        return ["" for _ in names]
    stripped = [n.strip(" ") for n in names]
    uniq: list[str] = []
    for n in stripped:
        if n not in uniq:
            uniq.append(n)

    def abbrev(word: str, ml: int) -> str:
        return _stripchars(word, ml, use_classes) if len(word) > ml else word

    x = list(uniq)
    dup2 = [True] * len(uniq)
    these = list(uniq)
    ml = minlength
    while True:
        ans = [abbrev(w, ml) for w in these]
        it = iter(ans)
        x = [next(it) if d else v for v, d in zip(x, dup2)]
        seen: set[str] = set()
        dup2 = []
        for v in x:
            dup2.append(v in seen)
            seen.add(v)
        if not any(dup2):
            break
        ml += 1
        dupvals = {v for v, d in zip(x, dup2) if d}
        dup2 = [d or (v in dupvals) for v, d in zip(x, dup2)]
        these = [w for w, d in zip(uniq, dup2) if d]
    lookup = dict(zip(uniq, x))
    return [lookup[n] for n in stripped]


# ---------------------------------------------------------------------------------------------
# printCoefmat and print.anova
# ---------------------------------------------------------------------------------------------

def _signif_stars(p: float) -> str:
    """``symnum(p, cutpoints = c(0, .001, .01, .05, .1, 1))`` (intervals closed on the right,
    the first also on the left)."""
    if p <= 0.001:
        return "***"
    if p <= 0.01:
        return "**"
    if p <= 0.05:
        return "*"
    if p <= 0.1:
        return "."
    return " "


def print_coefmat(table: Any, colnames: Sequence[str] | None = None,
                  rownames: Sequence[str] | None = None,
                  digits: int = 5, signif_stars: bool = True, signif_legend: bool | None = None,
                  dig_tst: int | None = None, cs_ind: Sequence[int] | None = None,
                  tst_ind: Sequence[int] | None = None, zap_ind: Sequence[int] = (),
                  P_values: bool | None = None, has_Pvalue: bool | None = None,  # noqa: N803
                  eps_Pvalue: float = DBL_EPSILON, na_print: str = "NA",  # noqa: N803
                  nan_is_na: bool = True, width: int = 80) -> str:
    """Text of R's ``printCoefmat`` (indices are 0-based; ``digits`` defaults to R's 5, the
    summary printers of lm/glm/lmer pass 4).

    Estimate/SE columns (``cs_ind``, default the first k = nc - has_Pvalue - len(tst_ind)) are
    rounded to max(1, digits - 1 - floor(log10(min nonzero |value|))) decimals and formatted
    jointly with ``digits``; test statistics (``tst_ind``, default column k) as
    ``format(round(t, dig_tst), digits)``; other columns each on their own (``zap_ind`` columns
    ``zapsmall``-ed first); entries whose string reads 0 while the value is not (or vice versa)
    are re-formatted with digits - 1; p-values with ``format.pval(digits = dig_tst)``; stars and
    the legend when some p < 0.1. ``has_Pvalue`` defaults to R's rule (>= 4 columns and the last
    header starting with ``Pr(`` or ``p-v``); ``cs_ind=()`` disables the joint block
    (``print.anova``). NA cells print as ``na_print``, NaN (``nan_is_na=False``) as ``NaN``.
    ``table`` may be a pandas DataFrame, whose columns and index then give the names.
    """
    if colnames is None:
        colnames = [str(c) for c in table.columns]
    if rownames is None:
        rownames = [str(r) for r in table.index]
    if hasattr(table, "iloc"):
        table = np.column_stack([np.asarray(table.iloc[:, j], dtype=object)
                                 for j in range(table.shape[1])])
    xm = np.array(table, dtype=object)
    if xm.ndim != 2:
        raise ValueError("'table' must be a coefficient matrix")
    nrow, nc = xm.shape
    vals_kinds = [_classify(xm[:, j], nan_is_na) for j in range(nc)]
    colnames = list(colnames)
    rownames = list(rownames)
    if has_Pvalue is None:
        has_Pvalue = nc >= 4 and len(colnames) > 0 and colnames[nc - 1][:3] in ("Pr(", "p-v")
    if P_values is None:
        P_values = has_Pvalue
    elif P_values and not has_Pvalue:
        raise ValueError("'P.values' is TRUE, but 'has.Pvalue' is not")
    if has_Pvalue and not P_values:
        vals_kinds = vals_kinds[:-1]
        colnames = colnames[:-1]
        nc -= 1
        has_Pvalue = False
    k = nc - int(has_Pvalue) - (1 if tst_ind is None else len(tst_ind))
    if cs_ind is None:
        cs_ind = list(range(k))
    elif len(cs_ind) > k:
        raise ValueError("wrong k / cs.ind")
    if tst_ind is None:
        tst_ind = [k]
    cs_ind = list(cs_ind)
    tst_ind = list(tst_ind)
    if dig_tst is None:
        dig_tst = max(1, min(5, digits - 1))
    if signif_legend is None:
        signif_legend = signif_stars

    vals = np.column_stack([v for v, _ in vals_kinds]) if nc else np.zeros((nrow, 0))
    kinds = np.column_stack([kd for _, kd in vals_kinds]) if nc else np.zeros((nrow, 0), int)
    ina = (kinds == _NA) | (kinds == _NAN)
    ok = ~ina
    cf = [["" for _ in range(nc)] for _ in range(nrow)]

    def set_col(j: int, strs: list[str]) -> None:
        for i in range(nrow):
            cf[i][j] = strs[i]

    for j in zap_ind:
        zv = zapsmall(np.where(ina[:, j], np.nan, vals[:, j]), digits)
        vals[:, j] = np.where(ina[:, j], vals[:, j], zv)

    def fmt_block(cols: list[int], rounding: float | None) -> None:
        flat_v = np.concatenate([vals[:, j] for j in cols])
        flat_k = np.concatenate([kinds[:, j] for j in cols])
        if rounding is not None:
            fin = flat_k == _FINITE
            flat_v = flat_v.copy()
            flat_v[fin] = round_r(flat_v[fin], rounding)
        strs = _format_kinds(flat_v, flat_k, digits)
        for c, j in enumerate(cols):
            set_col(j, strs[c * nrow:(c + 1) * nrow])

    if cs_ind:
        acs = np.abs(np.concatenate([vals[:, j] for j in cs_ind]))
        kcs = np.concatenate([kinds[:, j] for j in cs_ind])
        ia = (kcs == _FINITE)
        if ia.any():
            nz = acs[ia & (acs != 0)]
            digmin = 1 + math.floor(math.log10(float(nz.min()))) if nz.size else 1
            fmt_block(cs_ind, float(max(1, digits - digmin)))
    if tst_ind:
        flat_v = np.concatenate([vals[:, j] for j in tst_ind])
        flat_k = np.concatenate([kinds[:, j] for j in tst_ind])
        fin = flat_k == _FINITE
        flat_v = flat_v.copy()
        flat_v[fin] = round_r(flat_v[fin], float(dig_tst))
        strs = _format_kinds(flat_v, flat_k, digits)
        for c, j in enumerate(tst_ind):
            set_col(j, strs[c * nrow:(c + 1) * nrow])
    pcol = nc - 1 if has_Pvalue else None
    for j in range(nc):
        if j in cs_ind or j in tst_ind or j == pcol:
            continue
        set_col(j, _format_kinds(vals[:, j], kinds[:, j], digits))

    # Zero fix: entries whose string reads 0 while the value is not (or vice versa).
    okp_cols = [j for j in range(nc) if j != pcol]
    fix: list[tuple[int, int]] = []
    for j in okp_cols:
        if j in tst_ind:
            continue
        for i in range(nrow):
            if not ok[i, j]:
                continue
            try:
                parsed = float(cf[i][j])
            except ValueError:
                continue
            if (vals[i, j] == 0) != (parsed == 0):
                fix.append((i, j))
    if fix:
        # R collects the cells in column-major order (Cf[okP][not.both.0]).
        fix.sort(key=lambda ij: (ij[1], ij[0]))
        strs = _format_kinds(np.array([vals[i, j] for i, j in fix]),
                             np.array([kinds[i, j] for i, j in fix]), max(1, digits - 1))
        for (i, j), s in zip(fix, strs):
            cf[i][j] = s
    for i in range(nrow):
        for j in range(nc):
            if ina[i, j]:
                cf[i][j] = "NaN" if kinds[i, j] == _NAN else na_print

    stars_shown = False
    header = list(colnames)
    if P_values:
        okp = ok[:, nc - 1]
        if okp.any():
            pv = vals[:, nc - 1]
            pstr = format_pval(pv[okp], digits=dig_tst, eps=eps_Pvalue)
            for i, s in zip(np.flatnonzero(okp), pstr):
                cf[i][nc - 1] = s
            stars_shown = signif_stars and bool((pv[okp] < 0.1).any())
            if stars_shown:
                sym = [_signif_stars(float(p)) if okp[i] else "" for i, p in enumerate(pv)]
                sym = format_str(sym)
                for i in range(nrow):
                    cf[i].append(sym[i])
                header.append("")
    text = print_matrix(cf, rownames, header, right=True, width=width)
    if stars_shown and signif_legend:
        text += "---\n" + SIGNIF_LEGEND + "\n"
    return text


def _format_kinds(v: np.ndarray, k: np.ndarray, digits: int) -> list[str]:
    w, d, e = _format_real(v, k, digits)
    return [_encode_real(float(a), int(b), w, d, e) for a, b in zip(v, k)]


def print_anova(table: Any, heading: Sequence[str] | str | None = None, digits: int = 5,
                signif_stars: bool = True, colnames: Sequence[str] | None = None,
                rownames: Sequence[str] | None = None, nan_is_na: bool = True,
                width: int = 80) -> str:
    """Text of R's ``print.anova``: the heading lines (each followed by a newline, as
    ``cat(heading, sep = "\\n")``), then ``printCoefmat`` with no Estimate/SE block, value
    columns ``zapsmall``-ed (not statistic, p or ``*Df`` columns), statistic columns
    (``* value``, ``F``, ``Cp``, ``Chisq``) rounded to dig.tst = digits - 1 decimals, p-values
    with ``format.pval`` and NA cells blank.

    ``table`` is a pandas DataFrame (column names and index used) or a 2-d array with
    ``colnames``/``rownames`` given.
    """
    if colnames is None or rownames is None:
        colnames = [str(c) for c in table.columns] if colnames is None else list(colnames)
        rownames = [str(r) for r in table.index] if rownames is None else list(rownames)
        arr = np.column_stack([np.asarray(table.iloc[:, j], dtype=object)
                               for j in range(table.shape[1])])
    else:
        arr = np.asarray(table, dtype=object)
    cn = list(colnames)
    nc = len(cn)
    text = ""
    if heading is not None:
        heading = [heading] if isinstance(heading, str) else list(heading)
        text = "".join(h + "\n" for h in heading)
    last = cn[nc - 1]
    has_p = last.startswith("P(") or last.startswith("Pr(")
    zap_i = list(range(nc - 1 if has_p else nc))
    tst_i = [j for j, c in enumerate(cn) if c[1:7] == " value"]
    tst_i += [j for j, c in enumerate(cn) if c in ("F", "Cp", "Chisq")]
    zap_i = [j for j in zap_i if j not in tst_i]
    df_i = [j for j, c in enumerate(cn) if c.endswith("Df")]
    zap_i = [j for j in zap_i if j not in df_i]
    text += print_coefmat(arr, cn, rownames, digits=digits, signif_stars=signif_stars,
                          has_Pvalue=has_p, P_values=has_p, cs_ind=(), zap_ind=zap_i,
                          tst_ind=tst_i, na_print="", nan_is_na=nan_is_na, width=width)
    return text
