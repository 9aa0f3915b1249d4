"""Timing of the least-squares core (`rmodels._core.lm_wfit`) on the issue's benchmark design.

The design is the model matrix of ``y ~ x1 + x2 + x3 + f1 + f2 + x1:f2`` with f1 (50 levels) and
f2 (21 levels): 93 columns, n rows (default 1e6), built directly as a Fortran-ordered float64
matrix.  Timed:

* ``lm_wfit`` as lm() calls it (in place; large tall sparse designs take the reconstruction
  path, see cpp/qr_tall.hpp), with wall and CPU time;
* ``lm_wfit(allow_fast=False)``: LINPACK's column-by-column dqrdc2 (R's own algorithm), on a
  tenth of the rows;
* ``numpy.linalg.lstsq`` (LAPACK gelsd) on the same matrix;
* R's ``lm.fit`` and ``lm`` on the same kind of data generated in R (Rscript, when available).

GFLOP/s are *effective*: the Householder QR flop count 2 n p^2 - 2 p^3 / 3 divided by the time.
Results go to benchmarks/QR_CORE.md.

Run: PYTHONPATH=python python benchmarks/bench_qr_core.py [--n 1000000] [--reps 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
from rmodels import _core

HERE = Path(__file__).resolve().parent
L1, L2 = 50, 21


def design(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x1, x2, x3 = rng.standard_normal((3, n))
    f1 = rng.integers(0, L1, n)
    f2 = rng.integers(0, L2, n)
    p = 4 + (L1 - 1) + 2 * (L2 - 1)
    X = np.zeros((n, p), order="F")
    X[:, 0] = 1.0
    X[:, 1], X[:, 2], X[:, 3] = x1, x2, x3
    for k in range(1, L1):
        X[:, 3 + k] = f1 == k
    for k in range(1, L2):
        X[:, 3 + (L1 - 1) + k] = f2 == k
        X[:, 3 + (L1 - 1) + (L2 - 1) + k] = x1 * (f2 == k)
    y = 1.0 + x1 - 0.5 * x2 + 0.1 * f1 + rng.standard_normal(n)
    return X, y


def flops(n: int, p: int) -> float:
    return 2.0 * n * p * p - 2.0 * p**3 / 3.0


def time_lm_wfit(X: np.ndarray, y: np.ndarray, reps: int, **kw) -> dict:
    walls, cpus, algo = [], [], ""
    for _ in range(reps):
        Xc = X.copy(order="F")  # lm_wfit factorises in place; the copy is not timed
        c0, t0 = time.process_time(), time.perf_counter()
        fit = _core.lm_wfit(Xc, y, **kw)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        algo = fit["algorithm"]
        del Xc, fit
    return {"wall": min(walls), "cpu": min(cpus), "algorithm": algo}


def time_lstsq(X: np.ndarray, y: np.ndarray) -> float:
    t0 = time.perf_counter()
    np.linalg.lstsq(X, y, rcond=None)
    return time.perf_counter() - t0


R_SCRIPT = """
set.seed(1); n <- {n}
d <- data.frame(x1 = rnorm(n), x2 = rnorm(n), x3 = rnorm(n),
                f1 = factor(sample({l1}, n, TRUE)), f2 = factor(sample({l2}, n, TRUE)))
d$y <- 1 + d$x1 + rnorm(n)
X <- model.matrix(y ~ x1 + x2 + x3 + f1 + f2 + x1:f2, d)
t1 <- system.time(lm.fit(X, d$y))
t2 <- system.time(lm(y ~ x1 + x2 + x3 + f1 + f2 + x1:f2, d))
cat(t1[["elapsed"]], t1[["user.self"]] + t1[["sys.self"]],
    t2[["elapsed"]], t2[["user.self"]] + t2[["sys.self"]], "\\n")
"""


def time_r(n: int) -> tuple[float, float, float, float] | None:
    """(wall, CPU) of R's lm.fit and of R's lm."""
    if shutil.which("Rscript") is None:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False) as fh:
        fh.write(R_SCRIPT.format(n=n, l1=L1, l2=L2))
        path = fh.name
    try:
        out = subprocess.run(["Rscript", path], capture_output=True, text=True, check=True)
        w1, c1, w2, c2 = (float(v) for v in out.stdout.split())
        return w1, c1, w2, c2
    finally:
        os.unlink(path)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--no-r", action="store_true")
    ap.add_argument("--no-lstsq", action="store_true")
    args = ap.parse_args()
    n = args.n
    X, y = design(n)
    p = X.shape[1]
    fl = flops(n, p)
    rows = []

    fast = time_lm_wfit(X, y, args.reps)
    one = time_lm_wfit(X, y, args.reps, threads=1)
    rows.append((f"lm_wfit ({fast['algorithm']}, all cores)", n, fast["wall"], fast["cpu"]))
    rows.append((f"lm_wfit ({one['algorithm']}, 1 thread)", n, one["wall"], one["cpu"]))
    n_small = max(n // 10, 4 * p)
    Xs, ys = X[:n_small].copy(order="F"), y[:n_small]
    exact = time_lm_wfit(Xs, ys, 1, allow_fast=False)
    rows.append((f"lm_wfit ({exact['algorithm']}, column by column)", n_small, exact["wall"],
                 exact["cpu"]))
    if not args.no_lstsq:
        rows.append(("numpy.linalg.lstsq (LAPACK gelsd)", n, time_lstsq(X, y), float("nan")))
    r_times = None if args.no_r else time_r(n)
    if r_times is not None:
        rows.append(("R lm.fit (LINPACK dqrdc2)", n, r_times[0], r_times[1]))
        rows.append(("R lm (model frame + matrix + fit)", n, r_times[2], r_times[3]))

    base, base_cpu = fast["wall"], fast["cpu"]
    lines = [
        "# Least-squares core: timing",
        "",
        f"Design: y ~ x1 + x2 + x3 + f1 + f2 + x1:f2 (f1 {L1} levels, f2 {L2} levels), "
        f"p = {p}; {os.cpu_count()} cores; generated by `benchmarks/bench_qr_core.py`.",
        "Effective GFLOP/s = (2 n p^2 - 2 p^3 / 3) / wall time. The machine is shared, so wall",
        "times vary from run to run; CPU time (all threads) is the steadier comparison.",
        "The column-by-column row is timed on n / 10 rows; its ratios are per row.",
        "",
        "| method | n | wall (s) | CPU (s) | effective GFLOP/s | wall / rmodels | CPU / rmodels |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, nn, wall, cpu in rows:
        scale = n / nn  # the column-by-column run is on fewer rows: compare per row
        lines.append(f"| {name} | {nn} | {wall:.3f} | {cpu:.3f} | "
                     f"{flops(nn, p) / wall / 1e9:.1f} | {wall * scale / base:.1f} | "
                     f"{cpu * scale / base_cpu:.1f} |")
    lines.append("")
    lines.append(f"(Householder flops at n = {n}: {fl:.3g}.)")
    text = "\n".join(lines) + "\n"
    (HERE / "QR_CORE.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
