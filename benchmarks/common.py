"""Shared helpers for the benchmark scripts in ``benchmarks/``.

Every benchmark script times rmodels against R (and other Python libraries) *in the same run*,
prints the ratios and records a Markdown section in ``benchmarks/RESULTS.md``. This module holds
the pieces they share. Run a script from the repository root, e.g.
``python benchmarks/bench_model_matrix.py``; the script's folder is then on ``sys.path`` so
``from common import ...`` works, and :func:`ensure_rmodels` makes a developer build in
``python/`` importable when rmodels is not installed.

Timing
    ``time_python(fn, repeats=5, warmup=1) -> list[float]``
        Wall-clock seconds of ``fn()`` (``time.perf_counter``), one per repeat, after ``warmup``
        untimed calls; ``gc.collect()`` runs before every call and the result is dropped.
    ``write_r_data(df, directory, name="d") -> str``
        Writes ``df`` once as binary column files (doubles bit-exact, logicals, factors as codes
        plus levels, ordered kept, strings as UTF-8 lines, NaN/None -> NA) and returns R code that
        rebuilds it as ``data.frame`` ``name``; pass that code as (part of) an R setup.
    ``time_r(setup_r_code, expr_r_code, repeats=5, warmup=1, timeout=None) -> list[float]``
        Runs one ``Rscript`` process: the setup once, then ``expr`` ``warmup`` times untimed and
        ``repeats`` times timed *inside R* (``Sys.time()`` differences, ``gc()`` before each), so
        process start-up and data loading are never counted. The value of ``expr`` is kept until
        the clock stops (lazy results are forced the same way as in Python).
    ``run_r(code, timeout=None) -> str``
        Runs R code with ``Rscript`` and returns its standard output (for checks of results).

Memory (peak resident set size of a fresh process, read from ``/proc/self/status``)
    ``peak_memory_python(setup_code, stmt_code) -> MemoryUse``
    ``peak_memory_r(setup_r_code, expr_r_code) -> MemoryUse``
        Run the setup in a subprocess, reset the kernel's high-water mark (``/proc/self/
        clear_refs``), run the statement once, and report ``MemoryUse(baseline_bytes, peak_bytes)``:
        the resident size before the statement and the peak during it; ``.extra_bytes`` is the
        difference (memory the statement needed on top of its inputs), ``.extra_mb`` in MiB.
        The Python child inherits ``sys.path`` so ``setup_code`` may import the benchmark module.

Reporting
    ``median(values) -> float``; ``fmt_seconds(s) -> str`` (3 significant digits, s or ms);
    ``markdown_table(rows, headers, align=None) -> str`` (``align``: one of ``"l"``/``"r"`` per
    column; numbers right-aligned by default);
    ``machine_info() -> dict[str, str]`` (CPU model, cores usable, memory, OS, load average, UTC
    date, versions of Python, R, rmodels, numpy, pandas, scipy and the competitor libraries);
    ``machine_summary() -> str`` (the same as a Markdown bullet list for a results section);
    ``update_results(section_name, markdown, path=RESULTS_PATH)``: replaces the section
    ``## section_name`` of ``RESULTS.md`` (up to the next ``## `` heading) or appends it; the file
    is locked while it is rewritten, so several scripts may record at the same time.
"""

from __future__ import annotations

import datetime as _dt
import fcntl
import gc
import importlib.metadata
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS_PATH = BENCH_DIR / "RESULTS.md"
RESULTS_HEADER = (
    "# Benchmark results\n\n"
    "Each section is written by one script in `benchmarks/` (through `common.update_results`);\n"
    "all libraries in a section were timed in the same run on the machine it names.\n"
)


def ensure_rmodels() -> None:
    """Make ``import rmodels`` work from a source checkout (developer build in ``python/``)."""
    try:
        import rmodels  # noqa: F401
    except ImportError:
        sys.path.insert(0, str(REPO_DIR / "python"))


# --------------------------------------------------------------------------------------------
# Timing
# --------------------------------------------------------------------------------------------


def time_python(fn: Callable[[], Any], repeats: int = 5, warmup: int = 1) -> list[float]:
    """Seconds of ``fn()`` per repeat (``perf_counter``), after ``warmup`` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
        del result
    gc.collect()
    return times


def _r_string(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_r_data(df: pd.DataFrame, directory: str | os.PathLike, name: str = "d") -> str:
    """Write ``df`` as binary column files in ``directory``; return R code building ``name``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    n = len(df)
    parts = []
    for i, (col, s) in enumerate(df.items()):
        path = directory / f"col{i}.bin"
        rpath = _r_string(str(path))
        rcol = _r_string(str(col))
        if isinstance(s.dtype, pd.CategoricalDtype):
            codes = s.cat.codes.to_numpy(np.int32).astype("<i4") + 1
            codes[codes == 0] = np.iinfo(np.int32).min  # R's NA_integer_
            codes.tofile(path)
            lev_path = directory / f"col{i}.levels"
            lev_path.write_text("\n".join(str(v) for v in s.cat.categories) + "\n", "utf-8")
            cls = 'c("ordered", "factor")' if s.cat.ordered else '"factor"'
            parts.append(
                f"{rcol} = {{lev <- readLines({_r_string(str(lev_path))}, encoding = 'UTF-8');"
                f" v <- readBin({rpath}, 'integer', {n}, 4, endian = 'little');"
                f" structure(v, levels = lev, class = {cls})}}"
            )
        elif pd.api.types.is_bool_dtype(s.dtype):
            s.to_numpy(bool).astype("<i4").tofile(path)
            parts.append(f"{rcol} = as.logical(readBin({rpath}, 'integer', {n}, 4, "
                         "endian = 'little'))")
        elif pd.api.types.is_numeric_dtype(s.dtype):
            s.to_numpy(float, na_value=np.nan).astype("<f8").tofile(path)
            parts.append(f"{rcol} = {{v <- readBin({rpath}, 'double', {n}, 8, endian = 'little');"
                         " v[is.nan(v)] <- NA_real_; v}")
        else:
            na = "\x01NA"
            vals = [na if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
                    for v in s]
            path.write_text("\n".join(vals) + "\n", "utf-8")
            parts.append(f"{rcol} = {{v <- readLines({rpath}, encoding = 'UTF-8');"
                         " v[v == '\\001NA'] <- NA; v}")
    body = ",\n  ".join(parts)
    return f"{name} <- data.frame(\n  {body},\n  check.names = FALSE, stringsAsFactors = FALSE)\n"


_TIMES_TAG = "RMODELS_BENCH_TIMES"


def run_r(code: str, timeout: float | None = None) -> str:
    """Run ``code`` with ``Rscript`` (vanilla session) and return its standard output."""
    with tempfile.NamedTemporaryFile("w", suffix=".R", delete=False, encoding="utf-8") as fh:
        fh.write(code)
        script = fh.name
    try:
        proc = subprocess.run(["Rscript", "--vanilla", script], capture_output=True, text=True,
                              timeout=timeout)
    finally:
        os.unlink(script)
    if proc.returncode != 0:
        raise RuntimeError(f"Rscript failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc.stdout


def time_r(setup_r_code: str, expr_r_code: str, repeats: int = 5, warmup: int = 1,
           timeout: float | None = None) -> list[float]:
    """Seconds of ``expr_r_code`` per repeat, measured inside one R process (see module doc)."""
    code = f"""{setup_r_code}
.rmodels_expr <- function() {{
{expr_r_code}
}}
for (.i in seq_len({int(warmup)})) invisible(.rmodels_expr())
.times <- numeric({int(repeats)})
for (.i in seq_len({int(repeats)})) {{
  invisible(gc())
  .t0 <- Sys.time()
  .value <- .rmodels_expr()
  .times[.i] <- as.double(difftime(Sys.time(), .t0, units = "secs"))
  rm(.value)
}}
cat("{_TIMES_TAG}", sprintf("%.9f", .times), "\\n")
"""
    out = run_r(code, timeout=timeout)
    for line in out.splitlines():
        if line.startswith(_TIMES_TAG):
            return [float(v) for v in line.split()[1:]]
    raise RuntimeError(f"no timings in R output:\n{out[-2000:]}")


# --------------------------------------------------------------------------------------------
# Memory
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemoryUse:
    """Resident set size before a statement and its peak while the statement ran (bytes)."""

    baseline_bytes: int
    peak_bytes: int

    @property
    def extra_bytes(self) -> int:
        return max(0, self.peak_bytes - self.baseline_bytes)

    @property
    def extra_mb(self) -> float:
        return self.extra_bytes / 2**20


_MEM_TAG = "RMODELS_BENCH_MEMORY"

_PY_MEMORY_TEMPLATE = """
import json, sys
sys.path[:0] = {path!r}

def _status():
    out = {{}}
    with open("/proc/self/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0]) * 1024
    return out

{setup}
import gc
gc.collect()
with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")
_before = _status()["VmRSS"]
{stmt}
print({tag!r}, json.dumps([_before, _status()["VmHWM"]]))
"""


def _parse_memory(out: str) -> MemoryUse:
    for line in out.splitlines():
        if line.startswith(_MEM_TAG):
            before, peak = json.loads(line[len(_MEM_TAG):])
            return MemoryUse(int(before), int(peak))
    raise RuntimeError(f"no memory figures in output:\n{out[-2000:]}")


def peak_memory_python(setup_code: str, stmt_code: str, timeout: float | None = None
                       ) -> MemoryUse:
    """Peak extra resident memory of ``stmt_code`` run once in a fresh Python process."""
    code = _PY_MEMORY_TEMPLATE.format(path=[p for p in sys.path if p], setup=setup_code,
                                      stmt=stmt_code, tag=_MEM_TAG)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"python child failed:\n{proc.stderr[-3000:]}")
    return _parse_memory(proc.stdout)


def peak_memory_r(setup_r_code: str, expr_r_code: str, timeout: float | None = None
                  ) -> MemoryUse:
    """Peak extra resident memory of ``expr_r_code`` evaluated once in a fresh R process."""
    code = f"""{setup_r_code}
.rmodels_kb <- function(key) {{
  s <- grep(paste0("^", key, ":"), readLines("/proc/self/status"), value = TRUE)
  as.double(strsplit(trimws(sub("^[^:]*:", "", s)), " +")[[1]][1]) * 1024
}}
invisible(gc())
cat("5", file = "/proc/self/clear_refs")
.before <- .rmodels_kb("VmRSS")
.value <- {{
{expr_r_code}
}}
cat("{_MEM_TAG}", sprintf("[%.0f, %.0f]", .before, .rmodels_kb("VmHWM")), "\\n")
"""
    return _parse_memory(run_r(code, timeout=timeout))


# --------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def fmt_seconds(seconds: float) -> str:
    """``1.23 s`` / ``45.6 ms`` / ``789 µs`` (three significant digits)."""
    if seconds >= 1:
        return f"{seconds:.3g} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def markdown_table(rows: Sequence[Sequence[Any]], headers: Sequence[str],
                   align: Sequence[str] | None = None) -> str:
    """A GitHub Markdown table; cells are ``str()``-ed, numbers right-aligned unless ``align``."""
    cells = [[str(c) for c in row] for row in rows]
    if any(len(row) != len(headers) for row in cells):
        raise ValueError("every row needs one cell per header")
    if align is None:
        align = ["r" if rows and all(isinstance(row[j], (int, float, np.number)) for row in rows)
                 else "l" for j in range(len(headers))]
    widths = [max([len(h)] + [len(row[j]) for row in cells]) for j, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        padded = [v.rjust(w) if a == "r" else v.ljust(w) for v, w, a in zip(values, widths, align)]
        return "| " + " | ".join(padded) + " |"

    rule = "| " + " | ".join(("-" * (w - 1) + ":") if a == "r" else "-" * w
                             for w, a in zip(widths, align)) + " |"
    return "\n".join([line(list(headers)), rule] + [line(row) for row in cells]) + "\n"


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_info() -> dict[str, str]:
    """Where and with what a benchmark ran (see module doc)."""
    info: dict[str, str] = {}
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info["cpu"] = cpu
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    info["cores"] = f"{usable} usable of {os.cpu_count()}"
    try:
        with open("/proc/meminfo") as fh:
            total_kb = int(next(line for line in fh if line.startswith("MemTotal")).split()[1])
        info["memory"] = f"{total_kb / 2**20:.1f} GiB"
    except (OSError, StopIteration):
        pass
    info["os"] = platform.platform()
    if hasattr(os, "getloadavg"):
        info["load average (1 min) at start"] = f"{os.getloadavg()[0]:.2f}"
    info["date"] = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    info["python"] = platform.python_version()
    try:
        r_version = run_r('cat(R.version.string, "| BLAS:", basename(extSoftVersion()[["BLAS"]]))',
                          timeout=60).strip()
        info["R"] = r_version
    except (OSError, RuntimeError, subprocess.TimeoutExpired):
        info["R"] = "unavailable"
    ensure_rmodels()
    try:
        import rmodels

        info["rmodels"] = rmodels.__version__
    except ImportError:
        info["rmodels"] = "unavailable"
    for dist in ("numpy", "pandas", "scipy", "formulaic", "statsmodels", "pyfixest", "glum"):
        v = _version(dist)
        if v is not None:
            info[dist] = v
    return info


def machine_summary(info: dict[str, str] | None = None) -> str:
    """:func:`machine_info` as a Markdown bullet list."""
    info = machine_info() if info is None else info
    return "".join(f"- {k}: {v}\n" for k, v in info.items())


def update_results(section_name: str, markdown: str, path: str | os.PathLike = RESULTS_PATH
                   ) -> None:
    """Replace (or append) the ``## section_name`` section of the results file."""
    path = Path(path)
    block = f"## {section_name}\n\n{markdown.strip()}\n"
    heading = re.compile(r"^## (.+?)\s*$", re.MULTILINE)
    with open(path, "a+", encoding="utf-8") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            fh.seek(0)
            text = fh.read() or RESULTS_HEADER
            starts = list(heading.finditer(text))
            head = text[: starts[0].start()] if starts else text
            sections = []
            for k, m in enumerate(starts):
                end = starts[k + 1].start() if k + 1 < len(starts) else len(text)
                sections.append((m.group(1), text[m.start():end].strip() + "\n"))
            names = [name for name, _ in sections]
            if section_name in names:
                sections[names.index(section_name)] = (section_name, block)
            else:
                sections.append((section_name, block))
            new_text = head.rstrip() + "\n\n" + "\n".join(body for _, body in sections)
            fh.seek(0)
            fh.truncate()
            fh.write(new_text)
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
