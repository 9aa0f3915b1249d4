"""printing, numbers: R's ``format()`` of numeric, integer and character vectors and ``formatC``.

The numeric rules follow R's C code: ``formatReal``/``scientific`` (digits needed, fixed vs
scientific, the "rounding widens" check, R's 80-bit long double scaling) and ``EncodeReal0``
(``sprintf`` output) are computed by the core (format/format_real.cpp); ``formatInteger``,
``Rstrwid`` and the R function ``formatC`` are here.

Missing values. A ``None`` or R's ``NA_real_`` bit pattern (:data:`NA_REAL`, which survives
numpy copies and rpy2 transfers) is R's ``NA``. Any other float NaN is taken as ``NA`` too unless
``nan_is_na=False`` is passed, in which case it prints as ``NaN`` like R's ``NaN``.
"""

from __future__ import annotations

import math
import struct
import unicodedata
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _core
from .rounding import fround

__all__ = [
    "DBL_EPSILON",
    "NA_REAL",
    "classify_numbers",
    "encode_reals",
    "format_int",
    "format_num",
    "format_real",
    "format_scalar",
    "format_str",
    "formatC",
    "is_na_real",
    "pad_to_width",
    "str_width",
]

#: R's ``NA_real_``: a quiet NaN whose low word is 1954.
NA_REAL: float = struct.unpack("<d", struct.pack("<Q", 0x7FF00000000007A2))[0]


DBL_EPSILON = 2.220446049250313e-16

# Kinds of entries of a numeric vector.
KIND_FINITE, KIND_NA, KIND_NAN, KIND_POSINF, KIND_NEGINF = 0, 1, 2, 3, 4

# ---------------------------------------------------------------------------------------------
# Values and missingness
# ---------------------------------------------------------------------------------------------

def is_na_real(v: float) -> bool:
    """True iff ``v`` carries R's ``NA_real_`` payload (R's ``R_IsNA``: low word == 1954)."""
    if not isinstance(v, float) or v == v:
        return False
    return (struct.unpack("<Q", struct.pack("<d", v))[0] & 0xFFFFFFFF) == 1954


def classify_numbers(x: Any, nan_is_na: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Float values and kinds (finite / NA / NaN / +Inf / -Inf) of a numeric vector."""
    if isinstance(x, np.ndarray) and x.dtype.kind in "fiub":
        arr = np.asarray(x, dtype=np.float64).ravel()
        vals = arr.copy()
        kinds = np.zeros(vals.shape, dtype=np.int8)
        if np.count_nonzero(np.isfinite(vals)) == vals.size:  # the common case: all finite
            return vals, kinds
        isnan = np.isnan(vals)
        if isnan.any():
            bits = vals.view(np.uint64)
            na_bits = (bits & np.uint64(0xFFFFFFFF)) == np.uint64(1954)
            kinds[isnan] = KIND_NAN
            kinds[isnan & (na_bits | nan_is_na)] = KIND_NA
    else:
        seq = [x] if np.isscalar(x) or x is None else list(np.asarray(x, dtype=object).ravel())
        vals = np.empty(len(seq), dtype=np.float64)
        kinds = np.zeros(len(seq), dtype=np.int8)
        for i, v in enumerate(seq):
            if v is None or _is_pandas_na(v):
                vals[i] = np.nan
                kinds[i] = KIND_NA
                continue
            f = float(v)
            vals[i] = f
            if f != f:
                kinds[i] = KIND_NA if (nan_is_na or is_na_real(f)) else KIND_NAN
    inf = np.isinf(vals)
    kinds[inf & (vals > 0)] = KIND_POSINF
    kinds[inf & (vals < 0)] = KIND_NEGINF
    return vals, kinds


def _is_pandas_na(v: Any) -> bool:
    return type(v).__name__ in ("NAType", "NaTType")


# ---------------------------------------------------------------------------------------------
# formatReal and EncodeReal0 (computed by the core: format/format_real.cpp)
# ---------------------------------------------------------------------------------------------

def format_real(vals: np.ndarray, kinds: np.ndarray, digits: int, nsmall: int = 0,
                na_width: int = 2, scipen: int = 0) -> tuple[int, int, int]:
    """R's ``formatReal``: common (width, decimals, exponent-flag) of a numeric vector whose
    entries ``kinds`` classifies (:func:`classify_numbers`)."""
    return _core.format_real(vals, kinds, digits, nsmall, na_width, scipen)


def encode_reals(vals: np.ndarray, kinds: np.ndarray, w: int, d: int, e: int,
                 na: str = "NA") -> list[str]:
    """R's ``EncodeReal0`` of each number in the common format (C ``sprintf``)."""
    return _core.encode_reals(vals, kinds, w, d, e, na)


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
    vals, kinds = classify_numbers(x, nan_is_na)
    w, d, e = format_real(vals, kinds, digits, nsmall, na_width=len(na), scipen=scipen)
    if trim:
        w = 0
    if width is not None:
        w = max(w, int(width))
    out = encode_reals(vals, kinds, w, d, e, na)
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
    vals, kinds = classify_numbers(x, True)
    strs = [na if k != KIND_FINITE else str(int(v)) for v, k in zip(vals, kinds)]
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


def pad_to_width(s: str, w: int, right: bool) -> str:
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
    if justify != "centre" and "".join(strs).isascii():
        w = max([len(s) for s in strs] + [int(width or 0)])
        return [s.rjust(w) for s in strs] if justify == "right" else [s.ljust(w) for s in strs]
    w = max([str_width(s) for s in strs] + [int(width or 0)])
    out = []
    for s in strs:
        if justify == "centre":
            extra = w - str_width(s)
            lft = extra // 2
            out.append(" " * lft + s + " " * (extra - lft))
        else:
            out.append(pad_to_width(s, w, justify == "right"))
    return out


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
    if type(x) is float and math.isfinite(x):  # one finite double (the summaries' case)
        vals, kinds = [x], [KIND_FINITE]
    else:
        vals, kinds = classify_numbers([x] if scalar else x, nan_is_na)
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
        if k != KIND_FINITE:
            s = {KIND_NA: "NA", KIND_NAN: "NaN", KIND_POSINF: "Inf", KIND_NEGINF: "-Inf"}[int(k)]
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
    big_x = fround(xxx / 10.0 ** iex + 1e-12, float(dig - 1))
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
