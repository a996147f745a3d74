#!/usr/bin/env python3
"""Runs grus-bench and bench/torch_gru.py alternately (so both see the same machine load),
takes the median of each shape's per-round medians, and prints a Markdown table with ratios.

    swift build -c release --product grus-bench
    python3 bench/compare.py [--rounds 5] [--runs 9]
"""
import argparse
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def parse(out):
    rows = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[1].isdigit():
            rows[parts[0]] = float(parts[2])  # median ms
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=9)
    a = ap.parse_args()
    grus_bin = os.path.join(ROOT, ".build", "release", "grus-bench")
    if not os.path.exists(grus_bin):
        sys.exit("build first: swift build -c release --product grus-bench")
    g, t = {}, {}
    for r in range(a.rounds):
        for store, cmd in ((g, [grus_bin, "--runs", str(a.runs)]),
                           (t, [sys.executable, os.path.join(HERE, "torch_gru.py"), "--runs", str(a.runs)])):
            for k, v in parse(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout).items():
                store.setdefault(k, []).append(v)
        print(f"round {r + 1}/{a.rounds} done", file=sys.stderr)
    batch = {"speech-train": 64, "speech-infer": 64, "text-train": 64, "latency-b1": 1}
    print("| shape | Grus ms | PyTorch ms | Grus seq/s | PyTorch seq/s | speed-up |")
    print("|---|---:|---:|---:|---:|---:|")
    for k in batch:
        gm, tm = statistics.median(g[k]), statistics.median(t[k])
        print(f"| {k} | {gm:.3f} | {tm:.3f} | {batch[k] / gm * 1000:.0f} | {batch[k] / tm * 1000:.0f} | {tm / gm:.2f}x |")


if __name__ == "__main__":
    main()
