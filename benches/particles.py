#!/usr/bin/env python3
"""Benchmark of the particle method: time and error against the number of particles S.

For `tpc gen mlp --depth D --param mup --nonlin NONLIN --steps T` (default depth 2, tanh), runs
`tpc eval --method particles --particles S` at each S of --particles, plus one reference run at
--reference S_ref with another seed, and prints per S: wall and CPU seconds of the whole
process, the largest error bar of any output entry, and the largest distance of any entry from
the reference run (the error that the bars should cover; the reference's own error is
printed too). The error should fall faster than S^(-1/2) with tpc's quasi-random particles (the
default), as S^(-1/2) with --no-qmc (passed to every run, the reference's included), and the
time grow linearly in S.

Usage: benches/particles.py [--steps 10] [--depth 2] [--nonlin tanh]
                            [--particles 2048,8192,32768] [--reference 262144] [--replicas 8]
                            [--no-qmc]
Needs a release build (cargo build --release); uses only Python's standard library.
"""

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TPC = os.path.join(ROOT, "target", "release", "tpc")


def entries(outputs):
    """Every defined entry of every output as {(name, index): (value, error)}."""
    found = {}

    def walk(name, value, error, index):
        if isinstance(value, list):
            for k, (v, e) in enumerate(zip(value, error)):
                walk(name, v, e, index + (k,))
        elif value is not None:
            found[(name, index)] = (value, error)

    for name, output in outputs.items():
        walk(name, output["value"], output["error"], ())
    return found


def evaluate(program, particles, replicas, seed, pseudo):
    """(wall seconds, CPU seconds, entries) of one `tpc eval` process."""
    args = [TPC, "eval", program, "--method", "particles", "--particles", str(particles),
            "--replicas", str(replicas), "--mc-seed", str(seed), "--format", "json"]
    if pseudo:
        args.append("--no-qmc")
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    done = subprocess.run(args, capture_output=True, text=True, check=True)
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, entries(json.loads(done.stdout)["outputs"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--nonlin", default="tanh")
    parser.add_argument("--particles", default="2048,8192,32768")
    parser.add_argument("--reference", type=int, default=262144)
    parser.add_argument("--replicas", type=int, default=8)
    parser.add_argument("--no-qmc", action="store_true", help="pseudo-random particles")
    args = parser.parse_args()
    if not os.path.exists(TPC):
        sys.exit(f"{TPC} is missing: run `cargo build --release` first")
    with tempfile.TemporaryDirectory() as work:
        program = os.path.join(work, "train.tp")
        gen = [TPC, "gen", "mlp", "--depth", str(args.depth), "--param", "mup", "--nonlin",
               args.nonlin, "--steps", str(args.steps)]
        with open(program, "w") as f:
            f.write(subprocess.run(gen, capture_output=True, text=True, check=True).stdout)
        print(f"{' '.join(gen[1:])}, R = {args.replicas}{', --no-qmc' if args.no_qmc else ''}")
        wall, cpu, reference = evaluate(program, args.reference, args.replicas, seed=1, pseudo=args.no_qmc)
        largest = max(e for _, e in reference.values())
        print(f"reference: S = {args.reference}, {wall:.1f} s wall, {cpu:.1f} s CPU, "
              f"largest error bar {largest:.2g}")
        print(f"{'S':>8} {'wall s':>8} {'CPU s':>8} {'largest bar':>12} "
              f"{'largest |v - ref|':>18} {'bar x sqrt(S)':>14}")
        for s in [int(x) for x in args.particles.split(",")]:
            wall, cpu, found = evaluate(program, s, args.replicas, seed=0, pseudo=args.no_qmc)
            bar = max(e for _, e in found.values())
            distance = max(abs(v - reference[k][0]) for k, (v, _) in found.items())
            print(f"{s:>8} {wall:>8.2f} {cpu:>8.2f} {bar:>12.2g} {distance:>18.2g} "
                  f"{bar * math.sqrt(s):>14.3g}")


if __name__ == "__main__":
    main()
