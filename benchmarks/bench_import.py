"""Import time of ``import rmodels`` against ``import pandas`` (the target: at most 1.5 times).

Each import runs in a fresh interpreter (``python -c``), timed inside it around the import
statement alone (interpreter start-up is not counted), the two alternating so that a change in
the machine's load touches both alike; the medians are compared. rmodels imports pandas, so the
ratio is 1 plus rmodels' own share. Also lists the heavy modules ``import rmodels`` must not load
(scipy's, tqdm, narwhals, polars: imported on first use).

Usage (from the repository root): ``python benchmarks/bench_import.py [--repeats 15]
[--no-record]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

from common import (
    REPO_DIR,
    machine_summary,
    markdown_table,
    median,
    update_results,
)

DEFERRED = ("scipy", "tqdm", "narwhals", "polars")
_TIMER = ("import time, sys; t = time.perf_counter(); import {m}; "
          "print(time.perf_counter() - t); "
          "print(','.join(sorted({{k.split('.')[0] for k in sys.modules}})))")


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO_DIR / "python") + os.pathsep + env.get("PYTHONPATH", "")
    return env


def import_once(module: str) -> tuple[float, set]:
    """Seconds ``import module`` takes in a fresh interpreter, and the top-level packages loaded
    after it."""
    out = subprocess.run([sys.executable, "-c", _TIMER.format(m=module)], capture_output=True,
                         text=True, check=True, env=_env()).stdout.splitlines()
    return float(out[0]), set(out[1].split(","))


def measure(repeats: int) -> dict:
    """Alternating fresh-process imports of pandas and rmodels; their times and what rmodels
    loaded."""
    import_once("rmodels")  # (writes the bytecode caches)
    times: dict = {"pandas": [], "rmodels": []}
    loaded: set = set()
    for _ in range(repeats):
        times["pandas"].append(import_once("pandas")[0])
        t, loaded = import_once("rmodels")
        times["rmodels"].append(t)
    return {"times": times, "heavy_loaded": sorted(loaded & set(DEFERRED))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(REPO_DIR / "python"))  # the checkout measured (machine_summary)
    res = measure(args.repeats)
    pd_s, rm_s = median(res["times"]["pandas"]), median(res["times"]["rmodels"])
    rows = [["import pandas", f"{pd_s * 1000:.0f} ms", "1.00"],
            ["import rmodels", f"{rm_s * 1000:.0f} ms", f"{rm_s / pd_s:.2f}"]]
    table = markdown_table(rows, ["statement", f"median of {args.repeats}", "ratio to pandas"])
    heavy = ", ".join(res["heavy_loaded"]) or "none"
    text = (f"{table}\n\nTarget: ratio at most 1.5. Heavy modules loaded by `import rmodels`: "
            f"{heavy} (deferred to first use: {', '.join(DEFERRED)}).\n\n{machine_summary()}\n")
    print(text)
    if not args.no_record:
        update_results("Import time", text)
    return 0 if not res["heavy_loaded"] else 1


if __name__ == "__main__":
    sys.exit(main())
