"""R's default random numbers: ``set.seed``, ``runif``, ``sample``/``sample.int`` and
``rnorm`` as R >= 3.6 computes them with ``RNGkind("Mersenne-Twister", "Inversion",
"Rejection")``, so that a seeded computation draws exactly R's numbers.

The pieces, as in R's ``src/main/RNG.c`` and ``src/main/random.c`` / ``src/nmath``:

- ``set.seed(s)`` (``RNG_Init``): the seed is scrambled by 50 steps of the LCG
  s <- 69069 s + 1 (mod 2^32), then 625 further steps fill ``dummy[0]`` and the 624 words of
  the Mersenne-Twister state; ``dummy[0]`` (the position ``mti``) is then set to 624, so the
  first draw regenerates the whole block.
- ``MT_genrand``: the standard MT19937 recurrence and tempering (the words are produced by
  NumPy's MT19937 bit generator, loaded with R's state), scaled by 2^-32;
  ``unif_rand`` = ``fixup`` of it: values <= 0 become 2^-33 / (1 - 2^-32) (half of
  1 / (2^32 - 1)), so a uniform is never 0 (nor 1).
- ``R_unif_index(n)`` ("Rejection"): bits = ceil(log2 n); a candidate is built from
  floor(bits / 16) + 1 uniforms, 16 bits each (floor(65536 u)), masked to ``bits`` bits, and
  rejected while >= n (a compiled loop, ``_core.r_unif_index``, with a NumPy reference).
- ``norm_rand`` ("Inversion"): u = floor(2^27 u1) + u2, z = qnorm(u / 2^27), with R's
  ``qnorm5`` (Wichura's AS 241, R's operation order).

:class:`RRandom` is one generator (R's ``.Random.seed``); the module functions use a module
generator as R uses its global one, seeded from the clock on first use when no seed was set.
"""

from __future__ import annotations

import math
import time
from typing import Any, Optional, Sequence

import numpy as np

from .. import _core
from ..errors import DataError

__all__ = ["RRandom", "set_seed", "runif", "rnorm", "sample", "sample_int", "qnorm",
           "get_generator"]

MT_N = 624
I2_32M1 = 2.328306437080797e-10  # 1 / (2^32 - 1), R's i2_32m1
TWO_M32 = 2.3283064365386963e-10  # 2^-32
BIG = 134217728.0  # 2^27, R's BIG in norm_rand's INVERSION
MAX_SAMPLE_N = 4.5e15  # R's limit on n in sample.int
HASH_MIN_N = 1e7  # sample.int's useHash threshold (n > 1e7, !replace, size <= n / 2)


def scrambled_seed_state(seed: int) -> np.ndarray:
    """R's ``RNG_Init`` for Mersenne-Twister: the 625 words ``dummy[0], mt[0..623]`` after
    the initial scrambling (50 LCG steps) and the 625 filling steps, all mod 2^32."""
    s = int(seed) & 0xFFFFFFFF
    for _ in range(50):
        s = (69069 * s + 1) & 0xFFFFFFFF
    words = np.empty(MT_N + 1, dtype=np.uint32)
    for j in range(MT_N + 1):
        s = (69069 * s + 1) & 0xFFFFFFFF
        words[j] = s
    return words


def as_seed(seed: Any) -> int:
    """``set.seed``'s seed: an integer in R's integer range (R: "supplied seed is not a valid
    integer")."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer, float)):
        raise DataError("supplied seed is not a valid integer")
    if isinstance(seed, float):
        if not math.isfinite(seed) or abs(seed) >= 2**31:
            raise DataError("supplied seed is not a valid integer")
        seed = int(seed)  # as.integer truncates
    if not -(2**31) < int(seed) < 2**31:
        raise DataError("supplied seed is not a valid integer")
    return int(seed)


def index_bits(n: float) -> int:
    """ceil(log2 n) for R_unif_index (0 for n = 1)."""
    return max(int(math.ceil(math.log2(n))), 0) if n > 1 else 0


def qnorm(p: Any) -> np.ndarray:
    """R's ``qnorm(p)`` (``qnorm5`` with mean 0, sd 1, lower tail, not log): Wichura's AS 241
    in R's operation order; p = 0 → -Inf, 1 → Inf, outside [0, 1] → NaN."""
    p = np.asarray(p, dtype=np.float64)
    q = p - 0.5
    out = np.empty_like(p)
    central = np.abs(q) <= 0.425
    out[central] = _qnorm_central(q[central])
    tail = ~central
    qt, pt = q[tail], p[tail]
    r = np.where(qt < 0, pt, (0.5 - pt) + 0.5)  # min(p, 1 - p) as R's R_DT_Iv / R_DT_CIv
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.sqrt(-libm_log(r))
        val = np.where(r <= 5.0, _qnorm_near(r - 1.6), _qnorm_far(r - 5.0))
    out[tail] = np.where(qt < 0, -val, val)
    out[p == 0] = -np.inf
    out[p == 1] = np.inf
    out[(p < 0) | (p > 1) | np.isnan(p)] = np.nan
    return out


def libm_log(x: np.ndarray) -> np.ndarray:
    """log(x) by the C library (as R's), not NumPy's vectorised log, which may differ in the
    last bit; -Inf at 0, NaN below."""
    return np.fromiter((math.log(v) if v > 0 else (-math.inf if v == 0 else math.nan)
                        for v in x.tolist()), dtype=np.float64, count=x.size)


def _qnorm_central(q: np.ndarray) -> np.ndarray:
    """AS 241's rational function for |p - 0.5| <= 0.425."""
    r = 0.180625 - q * q
    num = (((((((r * 2509.0809287301226727 + 33430.575583588128105) * r
                + 67265.770927008700853) * r + 45921.953931549871457) * r
              + 13731.693765509461125) * r + 1971.5909503065514427) * r
            + 133.14166789178437745) * r + 3.387132872796366608)
    den = (((((((r * 5226.495278852854561 + 28729.085735721942674) * r
                + 39307.89580009271061) * r + 21213.794301586595867) * r
              + 5394.1960214247511077) * r + 687.1870074920579083) * r
            + 42.313330701600911252) * r + 1.0)
    return q * num / den


def _qnorm_near(r: np.ndarray) -> np.ndarray:
    """AS 241's rational function for sqrt(-log(min(p, 1 - p))) <= 5 (r already - 1.6)."""
    num = (((((((r * 7.7454501427834140764e-4 + 0.0227238449892691845833) * r
                + 0.24178072517745061177) * r + 1.27045825245236838258) * r
              + 3.64784832476320460504) * r + 5.7694972214606914055) * r
            + 4.6303378461565452959) * r + 1.42343711074968357734)
    den = (((((((r * 1.05075007164441684324e-9 + 5.475938084995344946e-4) * r
                + 0.0151986665636164571966) * r + 0.14810397642748007459) * r
              + 0.68976733498510000455) * r + 1.6763848301838038494) * r
            + 2.05319162663775882187) * r + 1.0)
    return num / den


def _qnorm_far(r: np.ndarray) -> np.ndarray:
    """AS 241's rational function for the far tail (r already - 5)."""
    num = (((((((r * 2.01033439929228813265e-7 + 2.71155556874348757815e-5) * r
                + 0.0012426609473880784386) * r + 0.026532189526576123093) * r
              + 0.29656057182850489123) * r + 1.7848265399172913358) * r
            + 5.4637849111641143699) * r + 6.6579046435011037772)
    den = (((((((r * 2.04426310338993978564e-15 + 1.4215117583164458887e-7) * r
                + 1.8463183175100546818e-5) * r + 7.868691311456132591e-4) * r
              + 0.0148753612908506148525) * r + 0.13692988092273580531) * r
            + 0.59983220655588793769) * r + 1.0)
    return num / den


def uniforms_from_words(words: np.ndarray) -> np.ndarray:
    """``unif_rand`` of MT words: fixup(y * 2^-32), 0 mapped to half of 1 / (2^32 - 1)."""
    u = words.astype(np.float64) * TWO_M32
    u[words == 0] = 0.5 * I2_32M1
    return u


def candidates_from_words(words: np.ndarray, bits: int) -> np.ndarray:
    """``rbits(bits)`` on consecutive groups of floor(bits / 16) + 1 words: the top 16 bits
    of each word (floor(65536 u)) concatenated, masked to ``bits`` bits (uint64; the
    concatenation wraps mod 2^64 as R's int_least64_t)."""
    k = bits // 16 + 1
    top = np.right_shift(words.astype(np.uint64, copy=False), np.uint64(16))
    mask = np.uint64((1 << bits) - 1)
    if k == 1:
        top &= mask
        return top
    chunks = top.reshape(-1, k)
    v = chunks[:, 0].copy()
    for j in range(1, k):
        v <<= np.uint64(16)
        v |= chunks[:, j]
    return v & mask


class RRandom:
    """One R random-number stream (R's ``.Random.seed`` under the default kinds).

    ``RRandom(seed)`` is ``set.seed(seed)``; without a seed, R's time-based seeding. The
    methods are R's functions on this stream: :meth:`runif`, :meth:`rnorm`,
    :meth:`sample_int`, :meth:`sample`; :meth:`unif_rand` gives raw uniforms.
    """

    def __init__(self, seed: Optional[int] = None):
        self._bits = np.random.MT19937(0)
        self.set_seed(seed)

    def set_seed(self, seed: Optional[int]) -> None:
        """R's ``set.seed(seed)``; None seeds from the clock and process as R's
        ``Randomize``."""
        if seed is None:
            seed = (int(time.time_ns() // 1000) ^ (id(self) << 16)) & 0x7FFFFFFF
        words = scrambled_seed_state(as_seed(seed))
        self._set_state(words[1:], MT_N)

    def _set_state(self, mt: np.ndarray, pos: int) -> None:
        self._bits.state = {"bit_generator": "MT19937",
                            "state": {"key": np.asarray(mt, dtype=np.uint32), "pos": int(pos)}}

    @property
    def random_seed(self) -> np.ndarray:
        """R's ``.Random.seed`` (626 integers: the kind code 10403, ``mti``, the 624 words)."""
        st = self._bits.state["state"]
        words = np.concatenate([[10403, st["pos"]], st["key"].astype(np.int64)])
        return np.where(words >= 2**31, words - 2**32, words).astype(np.int64)

    def words(self, n: int) -> np.ndarray:
        """The next n outputs of R's ``MT_genrand`` (32-bit words, held as uint64)."""
        return np.asarray(self._bits.random_raw(int(n)), dtype=np.uint64)

    def unif_rand(self, n: int) -> np.ndarray:
        """n values of R's ``unif_rand()`` (in (0, 1))."""
        return uniforms_from_words(self.words(n))

    def runif(self, n: int, min: float = 0.0, max: float = 1.0) -> np.ndarray:  # noqa: A002
        """R's ``runif(n, min, max)``: min + (max - min) u (min itself when min == max;
        NaN for non-finite or reversed limits, as R with a warning)."""
        if not (math.isfinite(min) and math.isfinite(max)) or max < min:
            return np.full(int(n), np.nan)
        u = self.unif_rand(n)
        return np.full(int(n), float(min)) if min == max else min + (max - min) * u

    def rnorm(self, n: int, mean: float = 0.0, sd: float = 1.0) -> np.ndarray:
        """R's ``rnorm(n, mean, sd)`` by inversion: two uniforms per value,
        z = qnorm((floor(2^27 u1) + u2) / 2^27); mean + sd z (mean when sd is 0)."""
        if sd < 0 or not math.isfinite(sd) or math.isnan(mean):
            return np.full(int(n), np.nan)
        if sd == 0 or not math.isfinite(mean):
            return np.full(int(n), float(mean))
        u = self.unif_rand(2 * int(n)).reshape(-1, 2)
        z = qnorm((np.floor(BIG * u[:, 0]) + u[:, 1]) / BIG)
        return mean + sd * z

    def unif_index(self, n: float, size: int) -> np.ndarray:
        """``size`` successive values of R's ``R_unif_index(n)`` (0-based, int64), by R's
        rejection sampling; the stream advances exactly as R's (compiled loop; the NumPy
        reference is :meth:`unif_index_numpy`)."""
        st = self._bits.state["state"]
        values, key, pos = _core.r_unif_index(st["key"], int(st["pos"]), float(n), int(size))
        self._set_state(key, pos)
        return values

    def unif_index_matrix(self, n: float, nrow: int, ncol: int) -> np.ndarray:
        """``matrix(R_unif_index(n) draws, nrow, ncol)``: nrow * ncol successive values of
        :meth:`unif_index` filled by column, as a C-contiguous nrow × ncol int32 array (n below
        2^31; compiled, writing each value in place)."""
        if not n < 2**31:
            raise DataError("unif_index_matrix needs n below 2^31")
        st = self._bits.state["state"]
        values, key, pos = _core.r_unif_index_by_column(st["key"], int(st["pos"]), float(n),
                                                        int(nrow), int(ncol))
        self._set_state(key, pos)
        return values

    def unif_index_numpy(self, n: float, size: int) -> np.ndarray:
        """:meth:`unif_index` in NumPy: every candidate uses the same number of words, so
        candidates are built in blocks and the accepted ones kept in order."""
        bits = index_bits(n)
        k = bits // 16 + 1
        accept = n / float(1 << bits)
        parts, got = [], 0
        while got < size:
            need = size - got
            # a first block a little short of the expected need (so that only a small last
            # block is ever re-drawn to stop exactly where R stops), then small top-ups
            m = int(need / accept * (0.995 if need > 100_000 else 1.05)) + 32
            saved = self._bits.state
            cand = candidates_from_words(self.words(m * k), bits)
            ok = np.flatnonzero(cand < np.uint64(n))
            if ok.size > need:  # rewind to just after the last candidate used
                used = int(ok[need - 1]) + 1
                self._bits.state = saved
                self._bits.random_raw(used * k)
                ok = ok[:need]
            parts.append(cand[ok].astype(np.int64))
            got += ok.size
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)

    def sample_int(self, n: float, size: Optional[int] = None, replace: bool = False,
                   prob: Optional[Sequence[float]] = None) -> np.ndarray:
        """R's ``sample.int(n, size = n, replace = FALSE)`` (1-based int64; R returns doubles
        for n >= 2^31, with the same values). ``prob`` is not supported."""
        if prob is not None:
            raise DataError("sample.int with 'prob' is not supported by rmodels.rrandom")
        n, size = check_sample_args(n, size, replace)
        if replace or size < 2:
            return self.unif_index(n, size) + 1
        if n > HASH_MIN_N and size <= n / 2:
            return self.sample_hashed(n, size)
        return self.sample_without_replacement(int(n), size)

    def sample_without_replacement(self, n: int, size: int) -> np.ndarray:
        """R's ``do_sample`` without replacement: a partial Fisher-Yates shuffle, the chosen
        position replaced by the last remaining one (compiled, ``_core.r_sample_noreplace``)."""
        st = self._bits.state["state"]
        values, key, pos = _core.r_sample_noreplace(st["key"], int(st["pos"]), int(n), int(size))
        self._set_state(key, pos)
        return values

    def sample_hashed(self, n: float, size: int) -> np.ndarray:
        """R's ``sample2`` (``useHash``): draws R_unif_index(n) and skips repeats."""
        seen: set = set()
        out = np.empty(size, dtype=np.int64)
        i = 0
        while i < size:
            for v in self.unif_index(n, size - i):
                if int(v) not in seen:
                    seen.add(int(v))
                    out[i] = v + 1
                    i += 1
                    if i == size:
                        break
        return out

    def sample(self, x: Any, size: Optional[int] = None, replace: bool = False) -> Any:
        """R's ``sample(x, size, replace)``: a single number x >= 1 means ``sample.int(x)``;
        otherwise elements of x at ``sample.int(length(x), size, replace)``."""
        if np.ndim(x) == 0 and isinstance(x, (int, float, np.integer, np.floating)) and x >= 1:
            return self.sample_int(x, size, replace)
        values = np.asarray(x)
        return values[self.sample_int(len(values), size, replace) - 1]


def check_sample_args(n: Any, size: Optional[int], replace: bool) -> tuple:
    """``sample.int``'s checks with R's messages; returns (n, size)."""
    if not isinstance(n, (int, float, np.integer, np.floating)) or math.isnan(n) or n < 0 \
            or n > MAX_SAMPLE_N:
        raise DataError("invalid first argument")
    n = float(math.floor(n)) if n != int(n) else float(n)
    size = int(n) if size is None else size
    if not isinstance(size, (int, np.integer)) or size < 0:
        raise DataError("invalid 'size' argument")
    if not replace and size > n:
        raise DataError("cannot take a sample larger than the population when 'replace = FALSE'")
    if size > 0 and n == 0:
        raise DataError("invalid first argument")
    return n, int(size)


_GLOBAL: dict = {}


def get_generator() -> RRandom:
    """The module's stream (R's global ``.Random.seed``), seeded from the clock on first use."""
    if "rng" not in _GLOBAL:
        _GLOBAL["rng"] = RRandom(None)
    return _GLOBAL["rng"]


def set_seed(seed: int) -> None:
    """R's ``set.seed(seed)`` on the module's stream."""
    _GLOBAL["rng"] = RRandom(seed)


def runif(n: int, min: float = 0.0, max: float = 1.0) -> np.ndarray:  # noqa: A002
    """R's ``runif`` on the module's stream (see :meth:`RRandom.runif`)."""
    return get_generator().runif(n, min, max)


def rnorm(n: int, mean: float = 0.0, sd: float = 1.0) -> np.ndarray:
    """R's ``rnorm`` on the module's stream (see :meth:`RRandom.rnorm`)."""
    return get_generator().rnorm(n, mean, sd)


def sample_int(n: float, size: Optional[int] = None, replace: bool = False) -> np.ndarray:
    """R's ``sample.int`` on the module's stream (see :meth:`RRandom.sample_int`)."""
    return get_generator().sample_int(n, size, replace)


def sample(x: Any, size: Optional[int] = None, replace: bool = False) -> Any:
    """R's ``sample`` on the module's stream (see :meth:`RRandom.sample`)."""
    return get_generator().sample(x, size, replace)
