"""printing against live R: format(), formatC(), format.pval(), signif/round/zapsmall, quantile,
print() of named vectors and character matrices, printCoefmat and print.anova.

Random inputs come from a fixed seed; each family of cases is sent to R once (doubles travel as
binary, bit for bit, so NA and NaN stay distinct) and R returns every output in one call.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pytest
from rbridge import r, r_raw
from rmodels import printing as rf

pytestmark = pytest.mark.r

NA = rf.NA_REAL


def r_with(code: str, **arrays: np.ndarray) -> object:
    """Evaluate ``code`` in R after binding each array (double or int32) to its name."""
    with tempfile.TemporaryDirectory() as tmp:
        binds = []
        for name, arr in arrays.items():
            arr = np.asarray(arr)
            path = os.path.join(tmp, name)
            if arr.dtype.kind == "f":
                arr.astype("<f8").tofile(path)
                binds.append(f"{name} <- readBin('{path}', 'double', {arr.size}, 8, "
                             "endian = 'little')")
            else:
                arr.astype("<i4").tofile(path)
                binds.append(f"{name} <- readBin('{path}', 'integer', {arr.size}, 4, "
                             "endian = 'little')")
        return r("local({" + "; ".join(binds) + "; " + code + "})")


def r_strings(code: str, **arrays: np.ndarray) -> list[str]:
    out = r_with(code, **arrays)
    assert isinstance(out, list)
    return out


# ---------------------------------------------------------------------------------------------
# random inputs
# ---------------------------------------------------------------------------------------------

def random_number(rng: np.random.Generator, center: float, spread: float) -> float:
    """A number of awkward kind: uniform mantissa, short decimal, decimal tie, binary tie,
    integer, or zero."""
    kind = rng.integers(0, 7)
    ex = center + rng.uniform(-spread, spread)
    if kind == 0:
        v = 10.0 ** ex
    elif kind == 1:  # few significant decimal digits
        k = int(rng.integers(1, 8))
        v = float(rng.integers(1, 10 ** k)) * 10.0 ** (np.floor(ex) - k + 1)
    elif kind == 2:  # decimal half-way case (not exact in binary)
        k = int(rng.integers(1, 12))
        v = (float(rng.integers(10 ** (k - 1), 10 ** k)) + 0.5) * 10.0 ** (np.floor(ex) - k + 1)
    elif kind == 3:  # exact binary tie such as 0.125, 2.5, 1234.5
        m = int(rng.integers(1, 4000)) * 2 + 1
        v = m / 2.0 ** int(rng.integers(1, 12))
    elif kind == 4:
        v = float(rng.integers(0, 10 ** int(rng.integers(1, 10))))
    elif kind == 5:  # many nines: rounding may widen
        k = int(rng.integers(1, 9))
        v = (10 ** k - rng.uniform(0, 0.6)) * 10.0 ** (np.floor(ex) - k)
    else:
        v = 0.0 if rng.random() < 0.5 else 10.0 ** ex
    return -v if rng.random() < 0.3 else v


def random_vector(rng: np.random.Generator) -> np.ndarray:
    n = int(rng.integers(1, 9))
    center = rng.uniform(-20, 20) if rng.random() < 0.5 else rng.uniform(-5, 6)
    spread = float(rng.choice([0.0, 0.5, 2.0, 6.0, 20.0]))
    out = []
    for _ in range(n):
        u = rng.random()
        if u < 0.04:
            out.append(NA)
        elif u < 0.06:
            out.append(np.nan)
        elif u < 0.075:
            out.append(np.inf if rng.random() < 0.5 else -np.inf)
        else:
            out.append(random_number(rng, center, spread))
    return np.array(out)


# ---------------------------------------------------------------------------------------------
# format()
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def format_cases():
    rng = np.random.default_rng(20221031)
    vecs, digits, nsmall, d0 = [], [], [], []
    for i in range(6000):
        vecs.append(random_vector(rng))
        digits.append(int(rng.integers(1, 16)) if i % 10 else int(rng.integers(16, 23)))
        nsmall.append(int(rng.integers(0, 6)) if rng.random() < 0.15 else 0)
        d0.append(int(rng.random() < 0.1))
    lens = np.array([v.size for v in vecs], dtype=np.int32)
    allv = np.concatenate(vecs)
    expected = r_strings(
        "g <- rep(seq_along(lens), lens); sp <- split(v, g); "
        "unlist(lapply(seq_along(lens), function(i) format(sp[[i]], digits = dg[i], "
        "nsmall = ns[i], drop0trailing = d0[i] == 1L)))",
        v=allv, lens=lens, dg=np.array(digits, np.int32), ns=np.array(nsmall, np.int32),
        d0=np.array(d0, np.int32))
    return vecs, digits, nsmall, d0, expected


def test_format_num_matches_r(format_cases) -> None:
    vecs, digits, nsmall, d0, expected = format_cases
    pos = 0
    bad = []
    for v, dg, ns, z in zip(vecs, digits, nsmall, d0):
        got = rf.format_num(v, digits=dg, nsmall=ns, drop0trailing=bool(z), nan_is_na=False)
        want = expected[pos:pos + v.size]
        pos += v.size
        if got != want:
            bad.append((list(v), dg, ns, z, got, want))
    assert pos == len(expected)
    assert not bad, f"{len(bad)} mismatches, e.g. {bad[:3]}"


def test_format_width_and_nan_as_na() -> None:
    want = r("c(format(c(1.5, NA, NaN), width = 8), format(c(-2, 1e10)), format(0.1, nsmall = 3))")
    got = (rf.format_num([1.5, NA, np.nan], width=8, nan_is_na=False)
           + rf.format_num([-2.0, 1e10]) + rf.format_num([0.1], nsmall=3))
    assert got == want
    assert rf.format_num([1.0, np.nan]) == rf.format_num([1.0, None])


# ---------------------------------------------------------------------------------------------
# signif, round, zapsmall, quantile
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def numeric_cases():
    rng = np.random.default_rng(7)
    x = np.array([random_number(rng, rng.uniform(-20, 20), 3.0) for _ in range(20000)])
    dsig = rng.integers(1, 17, x.size).astype(np.int32)
    dround = np.round(rng.uniform(-3, 18, x.size) * 2) / 2  # includes x.5 digits
    out = r_with("list(signif(x, ds), round(x, dr))", x=x, ds=dsig, dr=dround)
    return x, dsig, dround, out


def test_signif_matches_r(numeric_cases) -> None:
    x, dsig, _, out = numeric_cases
    got = np.array([rf.signif(float(a), int(d)) for a, d in zip(x, dsig)])
    bad = np.flatnonzero(got.view(np.uint64) != out[0].view(np.uint64))
    assert bad.size == 0, [(x[i], dsig[i], got[i], out[0][i]) for i in bad[:5]]


def test_round_matches_r(numeric_cases) -> None:
    x, _, dround, out = numeric_cases
    got = np.array([rf.round_r(float(a), float(d)) for a, d in zip(x, dround)])
    same = (got == out[1]) | (np.isnan(got) & np.isnan(out[1]))
    bad = np.flatnonzero(~same)
    assert bad.size == 0, [(x[i], dround[i], got[i], out[1][i]) for i in bad[:5]]


def test_zapsmall_and_quantile_match_r() -> None:
    rng = np.random.default_rng(11)
    vecs = []
    for _ in range(500):
        n = int(rng.integers(1, 40))
        v = rng.normal(size=n) * 10.0 ** rng.uniform(-8, 8)
        if rng.random() < 0.3:
            v[rng.integers(0, n)] = 10.0 ** rng.uniform(-12, -3)
        if rng.random() < 0.3:
            v = np.round(v, int(rng.integers(0, 3)))  # ties for the quantiles
        vecs.append(v)
    lens = np.array([v.size for v in vecs], dtype=np.int32)
    dz = rng.integers(1, 9, len(vecs)).astype(np.int32)
    out = r_with(
        "g <- rep(seq_along(lens), lens); sp <- split(v, g); "
        "list(unlist(lapply(seq_along(lens), function(i) zapsmall(sp[[i]], dz[i]))), "
        "unlist(lapply(sp, function(s) unname(quantile(s)))), "
        "unlist(lapply(sp, function(s) unname(quantile(s, c(0.1, 0.33, 0.9))))))",
        v=np.concatenate(vecs), lens=lens, dz=dz)
    zap = np.concatenate([rf.zapsmall(v, int(d)) for v, d in zip(vecs, dz)])
    q5 = np.concatenate([rf.quantile7(v) for v in vecs])
    q3 = np.concatenate([rf.quantile7(v, [0.1, 0.33, 0.9]) for v in vecs])
    assert np.array_equal(zap, out[0])
    assert np.array_equal(q5, out[1])
    assert np.array_equal(q3, out[2])


# ---------------------------------------------------------------------------------------------
# formatC, format.pval
# ---------------------------------------------------------------------------------------------

def test_formatC_matches_r() -> None:  # noqa: N802
    rng = np.random.default_rng(3)
    x = np.array([random_number(rng, rng.uniform(-8, 8), 2.0) for _ in range(3000)])
    x[::97] = np.nan
    x[::101] = np.inf
    dg = rng.integers(1, 11, x.size).astype(np.int32)
    wd = rng.integers(-1, 14, x.size).astype(np.int32)  # -1 = NULL
    fmts = ["g", "f", "e", "fg", "G", "E"]
    flags = ["", "", "-", "0", "+", " ", "#", "-+", "0+", "#-"]
    fi = rng.integers(0, len(fmts), x.size).astype(np.int32)
    fl = rng.integers(0, len(flags), x.size).astype(np.int32)
    want = r_strings(
        "fm <- c('g', 'f', 'e', 'fg', 'G', 'E'); "
        "fg <- c('', '', '-', '0', '+', ' ', '#', '-+', '0+', '#-'); "
        "vapply(seq_along(x), function(i) formatC(x[i], digits = dg[i], "
        "width = if (wd[i] < 0) NULL else wd[i], format = fm[fi[i] + 1L], "
        "flag = fg[fl[i] + 1L]), '')",
        x=x, dg=dg, wd=wd, fi=fi, fl=fl)
    bad = []
    for i in range(x.size):
        got = rf.formatC(float(x[i]), digits=int(dg[i]),
                         width=None if wd[i] < 0 else int(wd[i]), format=fmts[fi[i]],
                         flag=flags[fl[i]], nan_is_na=False)
        if got != want[i]:
            bad.append((x[i], dg[i], wd[i], fmts[fi[i]], flags[fl[i]], got, want[i]))
    assert not bad, f"{len(bad)} mismatches, e.g. {bad[:5]}"
    ints = rng.integers(-100000, 100000, 300)
    want = r_strings(
        "c(vapply(x, function(v) formatC(as.integer(v), width = 8L, flag = '0'), ''), "
        "vapply(x, function(v) formatC(as.integer(v)), ''), "
        "vapply(x, function(v) formatC(v, format = 'd'), ''), formatC(0.99917, digits = 4))",
        x=ints.astype(float))
    got = ([rf.formatC(int(v), width=8, flag="0") for v in ints]
           + [rf.formatC(int(v)) for v in ints]
           + [rf.formatC(float(v), format="d") for v in ints] + [rf.formatC(0.99917, digits=4)])
    assert got == want


def test_format_pval_matches_r() -> None:
    rng = np.random.default_rng(5)
    vecs = []
    for _ in range(3000):
        n = int(rng.integers(1, 8))
        p = 10.0 ** rng.uniform(-20, 0, n)
        p[rng.random(n) < 0.2] = rng.uniform(0, 1)
        p[rng.random(n) < 0.05] = NA
        p[rng.random(n) < 0.05] = 0.0
        vecs.append(p)
    lens = np.array([v.size for v in vecs], dtype=np.int32)
    dg = rng.integers(1, 8, len(vecs)).astype(np.int32)
    want = r_strings(
        "g <- rep(seq_along(lens), lens); sp <- split(v, g); "
        "unlist(lapply(seq_along(lens), function(i) format.pval(sp[[i]], digits = dg[i])))",
        v=np.concatenate(vecs), lens=lens, dg=dg)
    got = [s for v, d in zip(vecs, dg) for s in rf.format_pval(v, digits=int(d))]
    bad = [(i, a, b) for i, (a, b) in enumerate(zip(got, want)) if a != b]
    assert len(got) == len(want)
    assert not bad, bad[:5]


def test_format_pval_infinite_and_eps_match_r() -> None:
    # an infinite p-value (R prints Inf; the former Python port raised OverflowError) and other
    # eps values than the machine epsilon (the "<" rule's width test)
    cases = [([np.inf, 0.5, 1e-20], 3, 2.220446049250313e-16), ([np.inf], 4, 1e-4),
             ([1e-5, 0.2, np.inf, 3e-3], 2, 1e-3), ([1e-9, 0.99], 5, 1e-4),
             ([1e-9, 1e-12], 1, 1e-10), ([0.0123, 2e-5, NA], 4, 1e-4)]
    for p, digits, eps in cases:
        want = r_strings(f"format.pval(p, digits = {digits}, eps = {eps!r})",
                         p=np.array(p, dtype=float))
        assert rf.format_pval(p, digits=digits, eps=eps) == want, (p, digits, eps)


# ---------------------------------------------------------------------------------------------
# print of named vectors and character matrices
# ---------------------------------------------------------------------------------------------

def random_name(rng: np.random.Generator, maxlen: int) -> str:
    letters = "abcdefghijklmnopqrstuvwxyzABC()._:0123456789"
    k = int(rng.integers(1, maxlen + 1))
    return "".join(letters[j] for j in rng.integers(0, len(letters), k))


def test_print_named_vector_matches_r() -> None:
    rng = np.random.default_rng(13)
    cases = []
    for _ in range(400):
        n = int(rng.integers(1, 30))
        v = np.array([random_number(rng, rng.uniform(-4, 6), 2.0) for _ in range(n)])
        names = [random_name(rng, int(rng.integers(1, 16))) for _ in range(n)]
        cases.append((v, names, int(rng.integers(3, 8)), int(rng.integers(1, 3))))
    lens = np.array([c[0].size for c in cases], dtype=np.int32)
    nm_file = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8")
    with nm_file:
        nm_file.write("\n".join(s for c in cases for s in c[1]) + "\n")
    try:
        want = r_strings(
            f"nm <- readLines('{nm_file.name}'); g <- rep(seq_along(lens), lens); "
            "sp <- split(v, g); sn <- split(nm, g); "
            "vapply(seq_along(lens), function(i) {x <- setNames(sp[[i]], sn[[i]]); "
            "a <- paste(capture.output(print(x, digits = dg[i], print.gap = gp[i])), "
            "collapse = '\\n'); "
            "b <- paste(capture.output(print.default(format(x, digits = dg[i]), "
            "print.gap = 2L, quote = FALSE)), collapse = '\\n'); paste0(a, '\\001', b)}, '')",
            v=np.concatenate([c[0] for c in cases]), lens=lens,
            dg=np.array([c[2] for c in cases], np.int32),
            gp=np.array([c[3] for c in cases], np.int32))
    finally:
        os.unlink(nm_file.name)
    bad = []
    for (v, names, dg, gp), w in zip(cases, want):
        a = rf.print_named_vector(v, names, digits=dg, gap=gp)
        b = rf.print_named_vector(rf.format_num(v, digits=dg), names, gap=2)
        got = a[:-1] + "\x01" + b[:-1]
        if got != w:
            bad.append((got, w))
    assert not bad, f"{len(bad)} mismatches, e.g. {bad[:2]}"


def test_print_matrix_matches_r() -> None:
    rng = np.random.default_rng(17)
    cases = []
    for _ in range(200):
        nr, nc = int(rng.integers(1, 6)), int(rng.integers(1, 14))
        cells = [[random_name(rng, int(rng.integers(1, 14))) if rng.random() > 0.1 else ""
                  for _ in range(nc)] for _ in range(nr)]
        rn = [random_name(rng, 12) for _ in range(nr)]
        cn = [random_name(rng, 10) if rng.random() > 0.1 else "" for _ in range(nc)]
        cases.append((cells, rn, cn, bool(rng.random() < 0.5)))
    blob = []
    for cells, rn, cn, right in cases:
        blob += [str(len(rn)), str(len(cn)), "T" if right else "F"] + rn + cn
        blob += [cells[i][j] for j in range(len(cn)) for i in range(len(rn))]
    f = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8")
    with f:
        f.write("\n".join(blob) + "\n")
    try:
        want = r_strings(
            f"b <- readLines('{f.name}'); out <- character(); p <- 1L; "
            "while (p <= length(b)) { nr <- as.integer(b[p]); nc <- as.integer(b[p + 1L]); "
            "rt <- b[p + 2L] == 'T'; p <- p + 3L; rn <- b[p:(p + nr - 1L)]; p <- p + nr; "
            "cn <- b[p:(p + nc - 1L)]; p <- p + nc; "
            "m <- matrix(b[p:(p + nr * nc - 1L)], nr, nc, dimnames = list(rn, cn)); "
            "p <- p + nr * nc; out <- c(out, paste(capture.output(print(m, quote = FALSE, "
            "right = rt)), collapse = '\\n')) }; out")
    finally:
        os.unlink(f.name)
    bad = []
    for (cells, rn, cn, right), w in zip(cases, want):
        got = rf.print_matrix(cells, rn, cn, right=right)[:-1]
        if got != w:
            bad.append((got, w))
    assert not bad, f"{len(bad)} mismatches, e.g. {bad[:2]}"


# ---------------------------------------------------------------------------------------------
# printCoefmat
# ---------------------------------------------------------------------------------------------

def random_coef_table(rng: np.random.Generator) -> tuple[np.ndarray, int, int]:
    p = int(rng.integers(1, 7))
    scale = 10.0 ** rng.uniform(-6, 6)
    est = rng.normal(size=p) * scale * 10.0 ** rng.uniform(-2, 2, p)
    se = np.abs(rng.normal(size=p)) * scale * 10.0 ** rng.uniform(-3, 1, p)
    if rng.random() < 0.1:
        est[rng.integers(0, p)] = 0.0
    t = est / se
    kind = int(rng.integers(0, 3))  # 0: t + p, 1: t only (lmer), 2: z + p
    pv = np.minimum(1.0, 2 * 10.0 ** (-np.abs(t) * rng.uniform(0.1, 3, p)))
    if rng.random() < 0.2:
        pv[rng.integers(0, p)] = 10.0 ** rng.uniform(-40, -15)
    if rng.random() < 0.15:
        pv = np.maximum(pv, 0.12)  # no stars
    tab = np.column_stack([est, se, t, pv])
    if rng.random() < 0.2:
        tab[rng.integers(0, p), :] = NA  # aliased coefficient
    if kind == 1:
        tab = tab[:, :3]
    stars = int(rng.random() < 0.85)
    return tab, kind, stars


def test_print_coefmat_matches_r() -> None:
    rng = np.random.default_rng(19)
    cases = [random_coef_table(rng) for _ in range(1500)]
    digits = rng.integers(1, 11, len(cases)).astype(np.int32)
    flat = np.concatenate([np.pad(t, ((0, 0), (0, 4 - t.shape[1]))).ravel(order="F")
                           for t, _, _ in cases])
    want = r_strings(
        "out <- character(length(nr)); p <- 1L; "
        "cn <- list(c('Estimate', 'Std. Error', 't value', 'Pr(>|t|)'), "
        "c('Estimate', 'Std. Error', 't value'), "
        "c('Estimate', 'Std. Error', 'z value', 'Pr(>|z|)')); "
        "for (i in seq_along(nr)) { m <- matrix(v[p:(p + 4L * nr[i] - 1L)], nr[i], 4L); "
        "p <- p + 4L * nr[i]; cc <- cn[[kd[i] + 1L]]; m <- m[, seq_along(cc), drop = FALSE]; "
        "dimnames(m) <- list(c('(Intercept)', if (nr[i] > 1L) paste0('x', 2:nr[i] - 1L)), cc); "
        "out[i] <- paste(capture.output(printCoefmat(m, digits = dg[i], "
        "signif.stars = st[i] == 1L, na.print = 'NA')), collapse = '\\n') }; out",
        v=flat, nr=np.array([t.shape[0] for t, _, _ in cases], np.int32),
        kd=np.array([k for _, k, _ in cases], np.int32), dg=digits,
        st=np.array([s for _, _, s in cases], np.int32))
    names = [["Estimate", "Std. Error", "t value", "Pr(>|t|)"],
             ["Estimate", "Std. Error", "t value"],
             ["Estimate", "Std. Error", "z value", "Pr(>|z|)"]]
    bad = []
    for (tab, kind, stars), dg, w in zip(cases, digits, want):
        rn = ["(Intercept)"] + [f"x{j}" for j in range(1, tab.shape[0])]
        got = rf.print_coefmat(tab, names[kind], rn, digits=int(dg), signif_stars=bool(stars))
        if got[:-1] != w:
            bad.append((got, w))
    assert not bad, f"{len(bad)} mismatches, e.g. {bad[:2]}"


def test_print_coefmat_nan_and_zero_cells() -> None:
    # NaN standard errors (no residual df), an exact-zero estimate, a tiny SE that rounds to 0.
    tab = np.array([[0.3, np.nan, np.nan, np.nan], [1.8, np.nan, np.nan, np.nan],
                    [0.0, 0.5, 0.0, 1.0], [1234.5, 1e-9, 1.2e12, 0.0]])
    want = r_with(
        "m <- matrix(v, 4L, dimnames = list(c('a', 'b', 'c', 'd'), "
        "c('Estimate', 'Std. Error', 't value', 'Pr(>|t|)'))); "
        "c(paste(capture.output(printCoefmat(m[1:2, ], digits = 4)), collapse = '\\n'), "
        "paste(capture.output(printCoefmat(m[3:4, ], digits = 4)), collapse = '\\n'), "
        "paste(capture.output(printCoefmat(m, digits = 4, P.values = FALSE, "
        "has.Pvalue = TRUE)), collapse = '\\n'))", v=tab.ravel(order="F"))
    cn = ["Estimate", "Std. Error", "t value", "Pr(>|t|)"]
    got = [rf.print_coefmat(tab[:2], cn, ["a", "b"], digits=4, nan_is_na=False)[:-1],
           rf.print_coefmat(tab[2:], cn, ["c", "d"], digits=4, nan_is_na=False)[:-1],
           rf.print_coefmat(tab, cn, list("abcd"), digits=4, P_values=False, has_Pvalue=True,
                            nan_is_na=False)[:-1]]
    assert got == want


# ---------------------------------------------------------------------------------------------
# print.anova on real anova objects
# ---------------------------------------------------------------------------------------------

ANOVA_CODE = """
set.seed(SEED); n <- 40 + SEED
d <- data.frame(x = rnorm(n), z = rnorm(n), g = factor(sample(letters[1:3], n, TRUE)))
d$y <- 1 + SCALE * (0.5 * d$x + 0.1 * d$z) + rnorm(n) * SCALE
d$cnt <- rpois(n, exp(0.5 + 0.3 * d$x))
d$b <- rbinom(n, 1, plogis(0.4 * d$x))
m0 <- lm(y ~ 1, d); m1 <- lm(y ~ x, d); m2 <- lm(y ~ x + z * g, d)
g1 <- glm(cnt ~ x + g, poisson, d); g0 <- glm(cnt ~ 1, poisson, d)
b1 <- glm(b ~ x + z, binomial, d)
q1 <- glm(cnt ~ x + g, quasipoisson, d)
list(anova(m2), anova(m0, m1, m2), anova(m1, m2), anova(g1, test = "Chisq"), anova(g1),
     anova(g0, g1, test = "Chisq"), anova(b1, test = "Rao"), anova(q1, test = "F"),
     anova(g0, g1, test = "Cp"), anova(m1), anova(lm(y ~ x, d[1:2, ])))
"""


ANOVA_MORE_CODE = """
set.seed(1); n <- 60
d <- data.frame(x = rnorm(n), z = rnorm(n), g = factor(sample(letters[1:5], n, TRUE)))
d$y <- 1 + 0.5 * d$x + rnorm(5)[d$g] + rnorm(n)
d$cnt <- rpois(n, exp(0.5 + 0.3 * d$x))
m1 <- lmer(y ~ x + (1 | g), d, REML = FALSE); m2 <- lmer(y ~ x + z + (1 | g), d, REML = FALSE)
l <- lm(y ~ x + z + g, d); gl <- glm(cnt ~ x + z, poisson, d)
suppressMessages(list(anova(m1, m2), anova(m2), drop1(l), drop1(l, test = "F"),
  drop1(gl, test = "Chisq"), add1(lm(y ~ x, d), ~ . + z + g, test = "F"),
  anova(lm(y ~ x, d), lm(y ~ x + z, d), test = "Chisq"), anova(gl, test = "LRT")))
"""


@pytest.fixture(scope="module")
def anova_objects():
    out = []
    codes = [ANOVA_CODE.replace("SEED", str(seed)).replace("SCALE", repr(scale))
             for seed, scale in [(1, 1.0), (2, 1e-4), (3, 1e5), (4, 0.03), (5, 1.0), (6, 1e-9)]]
    for code in codes + [ANOVA_MORE_CODE]:
        r_raw(f".rf_anovas <- {{{code}}}")
        k = int(r("length(.rf_anovas)")[0])
        for i in range(1, k + 1):
            a = f".rf_anovas[[{i}]]"
            printed = r(f"paste(capture.output(print({a})), collapse = '\\n')")[0]
            heading = r(f"attr({a}, 'heading')") or []
            cols = r(f"colnames({a})")
            rows = r(f"rownames({a})")
            values = r(f"as.matrix(as.data.frame(lapply({a}, as.double)))")
            out.append((heading, cols, rows, values, printed))
    return out


def test_print_anova_matches_r(anova_objects) -> None:
    bad = []
    for heading, cols, rows, values, printed in anova_objects:
        got = rf.print_anova(values, heading, colnames=cols, rownames=rows, nan_is_na=False)
        if got[:-1] != printed:
            bad.append((got, printed))
    assert len(anova_objects) == 74
    assert not bad, f"{len(bad)} mismatches, e.g. {bad[:2]}"


def test_print_anova_from_dataframe(anova_objects) -> None:
    import pandas as pd

    heading, cols, rows, values, printed = anova_objects[0]
    df = pd.DataFrame(values, columns=cols, index=rows)
    assert rf.print_anova(df, heading)[:-1] == printed


# ---------------------------------------------------------------------------------------------
# special cases
# ---------------------------------------------------------------------------------------------

# Decimal half-way cases where R's long double scaling and exact decimal rounding (sprintf)
# disagree on the number of significant digits (found by search; R decides, see the test).
LONG_DOUBLE_CASES = [
    (8.0130597805e-27, 10), (6.625426865135605e+25, 15), (3.951505e-30, 6),
    (5.506536272720705e-27, 15), (546.9620027295, 12), (0.000932542404795, 11),
    (9.2815495e+28, 7), (4.0026805e-16, 7), (9.59176795e+25, 8), (7.88595e+25, 5),
    (1.1233895e-23, 7), (-7637982.895, 9),
]


def test_format_long_double_scaling_cases() -> None:
    x = np.array([a for a, _ in LONG_DOUBLE_CASES])
    d = np.array([b for _, b in LONG_DOUBLE_CASES], np.int32)
    want = r_strings("vapply(seq_along(x), function(i) format(x[i], digits = d[i]), '')",
                     x=x, d=d)
    got = [rf.format_num([a], digits=b)[0] for a, b in LONG_DOUBLE_CASES]
    assert got == want

    def nsig(s: str) -> int:
        return max(1, len(s.strip().lstrip("-").split("e")[0].replace(".", "").strip("0")))

    # plain correctly rounded decimal digits would give R a different number of digits here
    exact = [nsig("%.*e" % (b - 1, a)) for a, b in LONG_DOUBLE_CASES]  # noqa: UP031
    assert sum(e != nsig(w) for e, w in zip(exact, want)) >= 10


def test_format_extreme_magnitudes() -> None:
    rng = np.random.default_rng(99)
    vecs, dg = [], []
    for _ in range(1500):
        n = int(rng.integers(1, 6))
        c = rng.uniform(-318, 300)
        s = float(rng.choice([0.0, 1.0, 5.0, 50.0]))
        v = 10.0 ** np.clip(c + rng.uniform(-s, s, n), -323, 307) * rng.uniform(1, 9.99, n)
        v[rng.random(n) < 0.3] *= -1
        vecs.append(v)
        dg.append(int(rng.integers(1, 23)))
    lens = np.array([v.size for v in vecs], np.int32)
    want = r_strings(
        "g <- rep(seq_along(lens), lens); sp <- split(v, g); "
        "unlist(lapply(seq_along(lens), function(i) format(sp[[i]], digits = dg[i])))",
        v=np.concatenate(vecs), lens=lens, dg=np.array(dg, np.int32))
    got = [s for v, d in zip(vecs, dg) for s in rf.format_num(v, digits=d)]
    bad = [(a, b) for a, b in zip(got, want) if a != b]
    assert len(got) == len(want) and not bad, bad[:5]
    x = np.concatenate(vecs)
    ds = rng.integers(1, 17, x.size).astype(np.int32)
    dr = np.round(rng.uniform(-5, 330, x.size))
    out = r_with("list(signif(x, ds), round(x, dr))", x=x, ds=ds, dr=dr)
    assert np.array_equal([rf.signif(float(a), int(b)) for a, b in zip(x, ds)], out[0])
    assert np.array_equal([rf.round_r(float(a), float(b)) for a, b in zip(x, dr)], out[1])


def test_print_without_dimnames_quoted_and_wide_names() -> None:
    cells = [["a", "bb", "ccc"], ["dddd", None, "f"]]
    want = r_strings(
        "m <- matrix(c('a', 'dddd', 'bb', NA, 'ccc', 'f'), 2); m2 <- m; "
        "rownames(m2) <- c('r1', 'r2'); p <- function(e) paste(capture.output(e), "
        "collapse = '\\n'); c(p(print(m, quote = FALSE)), p(print(m2, right = TRUE)), "
        "p(print(c(a = 'x', b = NA, c = 'long string'))), "
        "p(print(setNames(c(1, 2), c(strrep('a', 90), 'b')))), "
        "p(print(c(a = 1L, bb = NA, c = -20L))))")
    got = [rf.print_matrix(cells, None, None),
           rf.print_matrix(cells, ["r1", "r2"], None, right=True, quote=True),
           rf.print_named_vector(["x", None, "long string"], ["a", "b", "c"], quote=True),
           rf.print_named_vector([1.0, 2.0], ["a" * 90, "b"]),
           rf.print_named_vector([1, None, -20], ["a", "bb", "c"])]
    assert [g[:-1] for g in got] == want


def test_residual_quantile_block_as_summary_lm() -> None:
    # print(structure(zapsmall(quantile(res), digits + 1), names = nam), digits = digits)
    rng = np.random.default_rng(23)
    vecs = [rng.standard_t(3, size=int(rng.integers(6, 200))) * 10.0 ** rng.uniform(-6, 6)
            for _ in range(300)]
    lens = np.array([v.size for v in vecs], np.int32)
    want = r_strings(
        "g <- rep(seq_along(lens), lens); sp <- split(v, g); "
        "vapply(sp, function(r) paste(capture.output(print(structure(zapsmall(quantile(r), 5L), "
        "names = c('Min', '1Q', 'Median', '3Q', 'Max')), digits = 4L)), collapse = '\\n'), '')",
        v=np.concatenate(vecs), lens=lens)
    nam = ["Min", "1Q", "Median", "3Q", "Max"]
    got = [rf.print_named_vector(rf.zapsmall(rf.quantile7(v), 5), nam, digits=4)[:-1]
           for v in vecs]
    assert got == want


def test_cat_and_numeric_matrix() -> None:
    rng = np.random.default_rng(29)
    m = rng.normal(size=(4, 14)) * 10.0 ** rng.uniform(-3, 5, 14)
    m[1, 2] = NA
    want = r_with(
        "m <- matrix(v, 4L); m2 <- m; dimnames(m2) <- list(paste0('row', 1:4), "
        "paste0('c', 1:14)); p <- function(e) paste(capture.output(e), collapse = '\\n'); "
        "c(p(print(m)), p(print(m2, digits = 4)), "
        "p(cat('Residual standard error:', 0.24219, 'on', 8L, 'degrees of freedom\\n')), "
        "p(cat('x', 1e5, 123456.7, -0.000012345678, NA, TRUE, 3L, sep = '|')))",
        v=m.ravel(order="F"))
    got = [rf.print_numeric_matrix(m)[:-1],
           rf.print_numeric_matrix(m, [f"row{i}" for i in range(1, 5)],
                                   [f"c{j}" for j in range(1, 15)], digits=4)[:-1],
           rf.cat("Residual standard error:", 0.24219, "on", 8, "degrees of freedom\n")[:-1],
           rf.cat("x", 1e5, 123456.7, -0.000012345678, None, True, 3, sep="|")]
    assert got == want


def test_print_coefmat_accepts_dataframe() -> None:
    import pandas as pd

    tab = pd.DataFrame({"Estimate": [1.5, -0.25], "Std. Error": [0.1, 0.2],
                        "t value": [15.0, -1.25], "Pr(>|t|)": [1e-10, 0.22]},
                       index=["(Intercept)", "x"])
    want = r_with("m <- matrix(v, 2L, dimnames = list(c('(Intercept)', 'x'), c('Estimate', "
                  "'Std. Error', 't value', 'Pr(>|t|)'))); "
                  "paste(capture.output(printCoefmat(m)), collapse = '\\n')",
                  v=tab.to_numpy().ravel(order="F"))
    assert rf.print_coefmat(tab)[:-1] == want[0]


def test_abbreviate_matches_r() -> None:
    rng = np.random.default_rng(31)
    pool = "aeiouxyzbcdtAEIXYZ()._: 0123 "
    groups = []
    for _ in range(300):
        k = int(rng.integers(1, 8))
        names = ["".join(pool[j] for j in rng.integers(0, len(pool), int(rng.integers(1, 25))))
                 for _ in range(k)]
        if rng.random() < 0.3:
            names.append(names[0][:-1] + "q")  # near-duplicates force longer abbreviations
        names += ["(Intercept)", "x:groupB"][: int(rng.integers(0, 3))]
        groups.append(([n.strip() or "a" for n in names], int(rng.integers(1, 13))))
    f = tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8")
    with f:
        f.write("\n".join(n for g, _ in groups for n in g) + "\n")
    try:
        want = r_strings(
            f"nm <- readLines('{f.name}'); g <- rep(seq_along(lens), lens); sp <- split(nm, g); "
            "unlist(lapply(seq_along(lens), function(i) unname(abbreviate(sp[[i]], ml[i]))))",
            lens=np.array([len(g) for g, _ in groups], np.int32),
            ml=np.array([m for _, m in groups], np.int32))
    finally:
        os.unlink(f.name)
    got = [a for g, m in groups for a in rf.abbreviate(g, m)]
    bad = [(a, b) for a, b in zip(got, want) if a != b]
    assert len(got) == len(want) and not bad, bad[:5]


def test_named_vector_na_print_and_quantile_na_rm() -> None:
    v = np.array([-0.9212, NA, 0.108, 0.3173, 0.5487, 12.5, -3.25])
    want = r_with(
        "p <- function(e) paste(capture.output(e), collapse = '\\n'); "
        "p(print.default(setNames(zapsmall(v, 5), letters[1:7]), digits = 4, na.print = '', "
        "print.gap = 2L))", v=v)
    assert rf.print_named_vector(rf.zapsmall(v, 5), list("abcdefg"), digits=4, gap=2,
                                 na_print="")[:-1] == want[0]
    assert np.array_equal(rf.quantile7(v, na_rm=True), r_with("quantile(v, na.rm = TRUE)", v=v))


# ---------------------------------------------------------------------------------------------
# composing a whole print(summary(lm)) from the primitives (as the lm printer does)
# ---------------------------------------------------------------------------------------------

SUMMARY_LM_CODE = """
d <- data.frame(x = 1:12, g = factor(rep(c("a", "b", "c"), 4)),
  y = c(2.1, 3.9, 6.2, 7.8, 10.1, 12.2, 13.8, 16.1, 18.3, 19.9, 22.5, 23.7))
d$x2 <- 2 * d$x; d$w <- rep(1:2, 6); d$y2 <- d$y; d$y2[5] <- NA
set.seed(3); d$noise <- rnorm(12) * 1e-3
fits <- list(lm(y ~ x + g, d), lm(y2 ~ x + x2 + g, d, weights = w), lm(y ~ x, d[1:6, ]),
  lm(y ~ 0 + x, d), lm(y ~ 1, d), lm(y ~ x, d[1:2, ]), lm(noise ~ x, d),
  lm(y * 1e6 ~ g, d))
lapply(fits, function(f) { s <- summary(f)
  cf <- matrix(NA_real_, length(s$aliased), 4, dimnames = list(names(s$aliased), NULL))
  cf[!s$aliased, ] <- s$coefficients
  list(printed = capture.output(print(s)), call = deparse(s$call),
    res = unname(s$residuals), rnames = names(s$residuals),
    wt = if (is.null(s$weights)) numeric() else s$weights,
    cf = cf, cn = colnames(s$coefficients), df = as.double(s$df), sigma = s$sigma,
    r2 = s$r.squared, ar2 = s$adj.r.squared,
    fstat = if (is.null(s$fstatistic)) numeric() else unname(s$fstatistic),
    na = naprint(f$na.action)) })
"""


def compose_summary_lm(o: dict) -> str:
    """print.summary.lm, built from the printing primitives and the summary's numbers."""
    digits = 4
    df = [int(v) for v in o["df"]]
    rdf = df[1]
    wt = np.asarray(o["wt"])
    out = "\nCall:\n" + "\n".join(o["call"]) + "\n\n"
    weighted = wt.size > 0 and wt.max() != wt.min()
    out += ("Weighted " if weighted else "") + "Residuals:\n"
    res = np.asarray(o["res"])
    if rdf > 5:
        q = rf.zapsmall(rf.quantile7(res), digits + 1)
        out += rf.print_named_vector(q, ["Min", "1Q", "Median", "3Q", "Max"], digits=digits)
    elif rdf > 0:
        out += rf.print_named_vector(res, o["rnames"], digits=digits)
    else:
        out += rf.cat("ALL", df[0], "residuals are 0: no residual degrees of freedom!") + "\n"
    nsing = df[2] - df[0]
    out += (f"\nCoefficients: ({nsing} not defined because of singularities)\n" if nsing
            else "\nCoefficients:\n")
    cf = np.asarray(o["cf"])
    out += rf.print_coefmat(cf, o["cn"], r(f"rownames(.rf_sl[[{o['i']}]]$cf)"),
                            digits=digits, nan_is_na=False)
    out += "\n" + rf.cat("Residual standard error:", rf.format_scalar(
        rf.signif(o["sigma"], digits), nan_is_na=False), "on", rdf, "degrees of freedom") + "\n"
    if o["na"][0]:
        out += "  (" + o["na"][0] + ")\n"
    fs = np.asarray(o["fstat"])
    if fs.size:
        from scipy import stats

        p = stats.f.sf(fs[0], fs[1], fs[2])
        out += rf.cat("Multiple R-squared: ", rf.formatC(o["r2"], digits=digits,
                                                         nan_is_na=False))
        out += rf.cat(",\tAdjusted R-squared: ", rf.formatC(o["ar2"], digits=digits,
                                                            nan_is_na=False),
                      "\nF-statistic:", rf.formatC(fs[0], digits=digits, nan_is_na=False),
                      "on", float(fs[1]),
                      "and", float(fs[2]), "DF,  p-value:",
                      rf.format_pval([p], digits=digits)[0]) + "\n"
    return out + "\n"


def test_summary_lm_composed_from_primitives() -> None:
    r_raw(f".rf_sl <- {{{SUMMARY_LM_CODE}}}")
    objs = r(".rf_sl")
    for i, o in enumerate(objs, start=1):
        o["i"] = i
        o["na"] = o["na"] or [""]
        got = compose_summary_lm(o)
        assert got.split("\n")[:-1] == o["printed"], i


SUMMARY_GLM_CODE = """
d <- data.frame(x = 1:12, g = factor(rep(c("a", "b", "c"), 4)),
  yc = c(2, 3, 6, 7, 8, 9, 10, 12, 15, 13, 17, 20), yb = c(0, 0, 1, 0, 1, 0, 1, 1, 0, 1, 1, 1))
d$x2 <- 2 * d$x
fits <- list(glm(yc ~ x + g, poisson, d), glm(yb ~ x, binomial, d),
  glm(yc ~ x, Gamma(link = "log"), d), glm(yc ~ x, quasipoisson, d[1:5, ]),
  glm(yc ~ x + x2, poisson, d), glm(yc * 1000 ~ g, gaussian, d))
lapply(fits, function(f) { s <- summary(f)
  cf <- matrix(NA_real_, length(s$aliased), 4, dimnames = list(names(s$aliased), NULL))
  cf[!s$aliased, ] <- s$coefficients
  list(printed = capture.output(print(s)), call = deparse(s$call),
    res = unname(s$deviance.resid), rnames = names(s$deviance.resid), rdf = s$df.residual,
    cf = cf, rn = rownames(cf), cn = colnames(s$coefficients), df = as.double(s$df),
    family = s$family$family, dispersion = s$dispersion,
    dev = c(s$null.deviance, s$deviance), dfs = c(s$df.null, s$df.residual),
    aic = s$aic, iter = s$iter) })
"""


def compose_summary_glm(o: dict) -> str:
    """print.summary.glm (R 4.2.2), built from the printing primitives and the summary's numbers."""
    digits = 4
    out = "\nCall:\n" + "\n".join(o["call"]) + "\n\n" + "Deviance Residuals: \n"
    res = np.asarray(o["res"])
    if o["rdf"][0] > 5:
        vals, names = rf.quantile7(res, na_rm=True), ["Min", "1Q", "Median", "3Q", "Max"]
    else:
        vals, names = res, o["rnames"]
    out += rf.print_named_vector(rf.zapsmall(vals, digits + 1), names, digits=digits, gap=2,
                                 na_print="")
    df = [int(v) for v in o["df"]]
    nsing = df[2] - df[0]
    out += (f"\nCoefficients: ({nsing} not defined because of singularities)\n" if nsing
            else "\nCoefficients:\n")
    out += rf.print_coefmat(np.asarray(o["cf"]), o["cn"], o["rn"], digits=digits)
    labels = [s + " deviance:" for s in rf.format_str(["Null", "Residual"], justify="right")]
    devs = rf.format_num(o["dev"], digits=max(5, digits + 1))
    dfs = rf.format_int(o["dfs"])
    out += ("\n(Dispersion parameter for " + o["family"][0] + " family taken to be "
            + rf.format_scalar(o["dispersion"][0]) + ")\n\n")
    out += "".join(f"{a} {b}  on {c}  degrees of freedom\n" for a, b, c in zip(labels, devs, dfs))
    out += "AIC: " + rf.format_scalar(o["aic"][0], digits=max(4, digits + 1)) + "\n\n"
    out += "Number of Fisher Scoring iterations: " + rf.cat(int(o["iter"][0])) + "\n"
    return out + "\n"


def test_summary_glm_composed_from_primitives() -> None:
    for o in r(SUMMARY_GLM_CODE):
        assert compose_summary_glm(o).split("\n")[:-1] == o["printed"], o["call"]


SUMMARY_LMER_CODE = """
set.seed(42); n <- 120
d <- data.frame(a = factor(sample(paste0("a", 1:4), n, TRUE)),
  b = factor(sample(paste0("b", 1:6), n, TRUE)), x = rnorm(n), z = rnorm(n))
d$y <- 1 + 0.5 * d$x + rnorm(4)[d$a] + rnorm(6)[d$b] + rnorm(n)
data(sleepstudy, package = "lme4")
fits <- list(lmer(Reaction ~ Days + (Days | Subject), sleepstudy),
  lmer(y ~ x + z + (x || a) + (1 | b), d), lmer(y ~ x + z + (1 + x + z | b), d, REML = FALSE))
suppressWarnings(suppressMessages(lapply(fits, function(f) { s <- summary(f)
  vc <- s$varcor
  list(printed = capture.output(print(s)), sres = unname(s$residuals),
    groups = names(vc), sd = lapply(vc, function(v) unname(attr(v, "stddev"))),
    terms = lapply(vc, colnames), corr = lapply(vc, function(v) unname(attr(v, "correlation"))),
    sigma = attr(vc, "sc"), ngrps = as.double(s$ngrps), gnames = names(s$ngrps),
    nobs = s$devcomp$dims[["n"]], coefs = unname(s$coefficients),
    cn = colnames(s$coefficients), rn = rownames(s$coefficients),
    corF = unname(as.matrix(s$vcov@factors$correlation))) })))
"""


def compose_lmer_blocks(o: dict) -> str:
    """lme4's printing from "Scaled residuals:" to the fixed-effects correlations."""
    digits = 4
    out = "Scaled residuals: \n"
    q = rf.zapsmall(rf.quantile7(o["sres"]), digits + 1)
    out += rf.print_named_vector(q, ["Min", "1Q", "Median", "3Q", "Max"], digits=digits) + "\n"
    sds = [np.atleast_1d(o["sd"][g]) for g in o["groups"]]
    terms = [o["terms"][g] for g in o["groups"]]
    lens = [s.size for s in sds] + [1]
    all_sd = np.concatenate(sds + [np.atleast_1d(o["sigma"])])
    var_s = rf.format_num(all_sd ** 2, digits=digits)
    sd_s = rf.format_num(all_sd, digits=digits)
    groups = [g for g, k in zip(o["groups"] + ["Residual"], lens) for _ in range(k)]
    first = np.cumsum([0] + lens[:-1])
    rows = [[groups[i] if i in first else "", name, var_s[i], sd_s[i]]
            for i, name in enumerate([t for ts in terms for t in ts] + [""])]
    header = ["Groups", "Name", "Variance", "Std.Dev."]
    maxlen = max(lens)
    if maxlen > 1:
        corr_rows = []
        for g in o["groups"]:
            c = np.atleast_2d(o["corr"][g])
            cc = np.array(rf.format_num(rf.round_r(c.ravel(), 2), nsmall=2)).reshape(c.shape)
            k = c.shape[0]
            for i in range(k):
                corr_rows.append([cc[i, j] if j < i else "" for j in range(maxlen)][:-1])
        corr_rows.append([""] * (maxlen - 1))
        rows = [r_ + c for r_, c in zip(rows, corr_rows)]
        header += ["Corr"] + [""] * (maxlen - 2)
    out += "Random effects:\n" + rf.print_matrix(rows, [""] * len(rows), header)
    out += rf.cat(f"Number of obs: {int(o['nobs'][0])}, groups: ", "; ".join(
        f"{g}, {int(k)}" for g, k in zip(o["gnames"], o["ngrps"]))) + "\n"
    out += "\nFixed effects:\n" + rf.print_coefmat(np.asarray(o["coefs"]), o["cn"], o["rn"],
                                                    digits=digits)
    cor = np.asarray(o["corF"])
    p = cor.shape[0]
    rns = rf.abbreviate(o["rn"], 11)
    cns = rf.abbreviate(o["rn"], 6)
    cf = np.array(rf.format_num(rf.round_r(cor.ravel(order="F"), 3), nsmall=3)).reshape(
        (p, p), order="F")
    cells = [[cf[i, j] if j < i else "" for j in range(p - 1)] for i in range(1, p)]
    out += "\nCorrelation of Fixed Effects:\n" + rf.print_matrix(cells, rns[1:], cns[:-1])
    return out


def test_summary_lmer_blocks_composed_from_primitives() -> None:
    for o in r(SUMMARY_LMER_CODE):
        printed = o["printed"]
        start = printed.index("Scaled residuals: ")
        got = compose_lmer_blocks(o).split("\n")[:-1]
        assert len(got) > 15 and got == printed[start:start + len(got)]
