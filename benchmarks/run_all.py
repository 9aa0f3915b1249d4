"""Run every benchmark script in this folder (each records its section of RESULTS.md).

Usage (from the repository root, rmodels built): ``python benchmarks/run_all.py [--no-record]``
(``--no-record`` prints the tables without rewriting RESULTS.md).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["bench_model_matrix.py", "bench_lm.py", "bench_glm.py", "bench_lmer.py",
           "bench_lmertest.py", "bench_glmer.py",
           "bench_batch.py", "bench_small.py", "bench_sandwich.py", "bench_boot.py"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-record", action="store_true")
    args = parser.parse_args()
    failed = []
    for name in SCRIPTS:
        path = HERE / name
        if not path.exists():
            continue
        cmd = [sys.executable, str(path)]
        if args.no_record:
            cmd += ["--no-record"]
        print(f"== {name}", flush=True)
        if subprocess.call(cmd, cwd=HERE.parent) != 0:
            failed.append(name)
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
