"""Fuzz driver: ``python -m tests.fuzz.run --n N --seed S [--batch B] [--jobs J] [--log FILE]
[--out FILE] [--resume]``.

N inputs are cut into batches of B; batch k's inputs depend only on (S, k, B), so a run gives
the same inputs for any J. J batches run at once, each in a child process
(:mod:`tests.fuzz.worker`), so that a crash of the interpreter is counted, not fatal: the batch
is then restarted after the input that crashed. A batch that prints nothing for STALL seconds
(a compiled call that never returns) is killed, its running input counted as a hang, and
restarted after it. Each finished batch is appended to the log (one JSON line: batch, size,
counts by outcome and by target, failures); ``--resume`` keeps the batches already in the log
and runs the others, so an interrupted run goes on where it stopped. Failures (crash, hang,
foreign exception or warning, changed DataFrame) also go to FILE (``--out``). Prints a summary;
exit status 1 if any failure occurred.
"""

from __future__ import annotations

import argparse
import collections
import concurrent.futures
import json
import os
import selectors
import subprocess
import sys
import time

from .targets import TIME_BOUND

BAD = ("crash", "hang", "foreign", "mutated")
#: wall seconds without a word from a batch before its running input counts as a hang: far
#: past the worker's own CPU-time bound (which catches Python-level hangs) on a loaded machine
STALL = 24 * TIME_BOUND


def batch_seed(seed: int, k: int) -> int:
    return seed * 1_000_003 + k


class Batch:
    """One batch's child processes (one, or more after a crash) and its tallies."""

    def __init__(self, k: int, seed: int, size: int) -> None:
        self.k, self.seed, self.size = k, seed, size
        self.counts: collections.Counter = collections.Counter()
        self.by_target: dict = collections.defaultdict(collections.Counter)
        self.bad: list = []
        self.done = 0  # inputs finished or lost, in the batch's order

    def record(self, kind: str, target: str, formula: str | None, detail: str) -> None:
        self.counts[kind] += 1
        self.by_target[target][kind] += 1
        self.done += 1
        if kind in BAD:
            self.bad.append({"kind": kind, "target": target, "input": formula,
                             "detail": detail, "batch": self.k})

    def run(self) -> dict:
        t0 = time.monotonic()
        while self.done < self.size and self.child(skip=self.done):
            pass
        return {"batch": self.k, "seed": self.seed, "size": self.size, "inputs": self.done,
                "counts": dict(self.counts),
                "by_target": {t: dict(c) for t, c in self.by_target.items()},
                "bad": self.bad, "seconds": round(time.monotonic() - t0, 1)}

    def child(self, skip: int) -> bool:
        """Run the batch from input ``skip`` in a child until it ends, dies or stalls; whether
        to restart it after the input that crashed or stalled."""
        env = dict(os.environ, PYTHONHASHSEED="0", OMP_NUM_THREADS="1",
                   OPENBLAS_NUM_THREADS="1")
        proc = subprocess.Popen([sys.executable, "-m", "tests.fuzz.worker", str(self.seed),
                                 str(self.size), str(skip)], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=env, text=True, bufsize=1)
        sel = selectors.DefaultSelector()
        sel.register(proc.stdout, selectors.EVENT_READ)
        current, last = None, time.monotonic()
        while True:
            if not sel.select(timeout=1.0):
                if current is not None and time.monotonic() - last > STALL:
                    proc.kill()
                    proc.wait()
                    self.record("hang", *current, "killed by the driver")
                    sel.close()
                    return True
                continue
            line = proc.stdout.readline()
            last = time.monotonic()
            if not line:
                break
            if line == "DONE\n":
                proc.wait()
                sel.close()
                return False
            line = line.rstrip("\n")
            if line.startswith("IN "):
                target, _, formula = line[3:].partition(" ")
                current = (target, formula)
            elif line.startswith("OUT ") and current is not None:
                kind, _, detail = line[4:].partition(" ")
                self.record(kind, *current, detail)
                current = None
        sel.close()
        proc.wait()
        err = proc.stderr.read()
        target, formula = current if current is not None else ("?", None)
        self.record("crash", target, formula, f"exit {proc.returncode}: {err[-500:]}")
        return current is not None  # a child that dies outside an input would die again


def plan(n: int, size: int) -> list[tuple[int, int]]:
    """(batch index, batch size) for N inputs in batches of ``size``."""
    return [(k, min(size, n - k * size)) for k in range((n + size - 1) // size)]


def read_log(path: str, seed: int) -> dict:
    """The batches already in the log for this seed: {(index, size): record}."""
    done: dict = {}
    if not os.path.exists(path):
        return done
    with open(path) as fh:
        for line in fh:
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:  # a line cut by an interruption
                continue
            if rec.get("seed") == batch_seed(seed, rec.get("batch", -1)):
                done[(rec["batch"], rec["size"])] = rec
    return done


def summary(records: list) -> dict:
    """Totals over the batch records: inputs, each outcome, and outcomes by target."""
    counts: collections.Counter = collections.Counter()
    by_target: dict = collections.defaultdict(collections.Counter)
    for rec in records:
        counts.update(rec["counts"])
        for target, c in rec["by_target"].items():
            by_target[target].update(c)
    return {"batches": len(records), "inputs": sum(r["inputs"] for r in records),
            **{k: counts.get(k, 0) for k in ("ok", "error", *BAD)},
            "by_target": {t: dict(sorted(c.items())) for t, c in sorted(by_target.items())}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=2_000)
    ap.add_argument("--jobs", type=int, default=1, help="batches run at once (0: all cores)")
    ap.add_argument("--log", default="fuzz-log.jsonl", help="one JSON line per batch")
    ap.add_argument("--out", default="fuzz-failures.jsonl", help="the failing inputs")
    ap.add_argument("--resume", action="store_true", help="keep the batches in the log")
    args = ap.parse_args(argv)
    jobs = args.jobs if args.jobs > 0 else (os.cpu_count() or 1)
    done = read_log(args.log, args.seed) if args.resume else {}
    todo = [(k, s) for k, s in plan(args.n, args.batch) if (k, s) not in done]
    records = [done[ks] for ks in plan(args.n, args.batch) if ks in done]
    mode = "a" if args.resume else "w"
    t0 = time.monotonic()
    print(f"{len(records)} batches in the log, {len(todo)} to run, {jobs} at once", flush=True)
    with open(args.log, mode) as log, open(args.out, mode) as out, \
            concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(Batch(k, batch_seed(args.seed, k), s).run) for k, s in todo]
        for fut in concurrent.futures.as_completed(futures):
            rec = fut.result()
            records.append(rec)
            log.write(json.dumps(rec) + "\n")
            log.flush()
            for b in rec["bad"]:
                out.write(json.dumps(b) + "\n")
            out.flush()
            tot = summary(records)
            print(f"batch {rec['batch']}: {rec['inputs']} inputs in {rec['seconds']} s; "
                  f"total {tot['inputs']} inputs, "
                  f"{', '.join(f'{k} {tot[k]}' for k in BAD)}; "
                  f"{time.monotonic() - t0:.0f} s", flush=True)
    tot = summary(records)
    print(json.dumps(tot))
    return 1 if any(tot[b] for b in BAD) else 0


if __name__ == "__main__":
    sys.exit(main())
