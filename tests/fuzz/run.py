"""Fuzz driver: ``python -m tests.fuzz.run --n N --seed S [--batch B] [--out FILE]``.

Runs N inputs in batches of B, each batch in a child process (:mod:`tests.fuzz.worker`) so that
a crash of the interpreter is counted, not fatal; a batch that prints nothing for twice the
per-input bound is killed and its running input counted as a hang. Prints the counts of each
outcome and writes every crash, hang, foreign exception and mutation (with its input) to FILE.
Exit status 1 if any of those occurred.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import selectors
import subprocess
import sys
import time

from .targets import TIME_BOUND

BAD = ("crash", "hang", "foreign", "mutated")
#: seconds without a word from a batch before its running input counts as a hang: well past the
#: worker's own 5 s alarm, which catches Python-level hangs; this catches compiled ones
STALL = 6 * TIME_BOUND


def _batch(batch_seed: int, count: int, counts: collections.Counter, bad: list) -> int:
    """Run one child batch; return how many inputs it finished or lost."""
    env = dict(os.environ, PYTHONHASHSEED="0", OMP_NUM_THREADS="1")
    proc = subprocess.Popen([sys.executable, "-m", "tests.fuzz.worker", str(batch_seed),
                             str(count)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env, text=True, bufsize=1)
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    current, done, last = None, 0, time.monotonic()
    while True:
        if not sel.select(timeout=1.0):
            if time.monotonic() - last > STALL and current is not None:
                proc.kill()
                proc.wait()
                counts["hang"] += 1
                bad.append({"kind": "hang", "input": current, "detail": "killed by the driver"})
                return done + 1
            continue
        line = proc.stdout.readline()
        last = time.monotonic()
        if not line:
            break
        line = line.rstrip("\n")
        if line.startswith("IN "):
            current = line[3:]
        elif line.startswith("OUT "):
            kind, _, detail = line[4:].partition(" ")
            counts[kind] += 1
            done += 1
            if kind in BAD:
                bad.append({"kind": kind, "input": current, "detail": detail})
            current = None
        elif line == "DONE":
            break
    proc.wait()
    if proc.returncode != 0:
        counts["crash"] += 1
        bad.append({"kind": "crash", "input": current,
                    "detail": f"exit {proc.returncode}: {proc.stderr.read()[-500:]}"})
        done += 1
    return done


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=2_000)
    ap.add_argument("--out", default="fuzz-failures.jsonl")
    args = ap.parse_args(argv)
    counts: collections.Counter = collections.Counter()
    total, k, t0 = 0, 0, time.monotonic()
    with open(args.out, "w") as fh:  # written batch by batch: a long run can be watched
        while total < args.n:
            size = min(args.batch, args.n - total)
            bad: list = []
            total += max(1, _batch(args.seed * 1_000_003 + k, size, counts, bad))
            k += 1
            for b in bad:
                fh.write(json.dumps(b) + "\n")
            fh.flush()
            print(f"{total} inputs, {dict(counts)}, {time.monotonic() - t0:.0f} s", flush=True)
    print(json.dumps({"inputs": total, **counts}))
    return 1 if any(counts[b] for b in BAD) else 0


if __name__ == "__main__":
    sys.exit(main())
