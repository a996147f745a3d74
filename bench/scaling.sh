#!/usr/bin/env bash
# One process with 2 threads against 2 MPI ranks with 1 thread each, on the same recipe and
# machine: wall time, training time, sequences per second and the final metric, per run and
# the median over RUNS runs (default 3). Features come from the shared cache (a first
# --stop-after features run fills it), so both sides time the same work.
#   bash bench/scaling.sh Recipes/sst2.yaml [RUNS]        # needs ../shared/corpora/sst2
#   bash bench/scaling.sh Recipes/speech-commands.yaml 2
set -euo pipefail
recipe=$1; runs=${2:-3}
grus=$PWD/.build/release/grus
name=$(basename "$recipe" .yaml)
out=${OUT:-/tmp/grus-scaling}/$name
mkdir -p "$out"
$grus run "$recipe" --out "$out/warm" --stop-after features > /dev/null
for k in $(seq 1 "$runs"); do
  rm -rf "$out/one-$k" "$out/two-$k"   # a finished run in the folder would be reused, not trained again
  /usr/bin/time -f "%e" -o "$out/one-$k.time" $grus run "$recipe" --out "$out/one-$k" --set training.threads=2 > /dev/null
  /usr/bin/time -f "%e" -o "$out/two-$k.time" mpirun --allow-run-as-root -np 2 $grus run "$recipe" --out "$out/two-$k" > /dev/null
done
python3 - "$out" "$runs" <<'PY'
import json, statistics, sys
out, runs = sys.argv[1], int(sys.argv[2])
def metric(m):
    for k in ("accuracy", "token_accuracy", "span_f1", "token_error_rate"):
        if k in m: return k, 100 * m[k]
rows = {}
for side, label in (("one", "1 process x 2 threads"), ("two", "2 ranks x 1 thread")):
    wall, train, rate, score = [], [], [], []
    for k in range(1, runs + 1):
        d = f"{out}/{side}-{k}"
        wall.append(float(open(f"{d}.time").read().split()[-1]))
        t = json.load(open(f"{d}/training.json"))
        train.append(t["train_seconds"]); rate.append(t["sequences_per_second"])
        name, v = metric(json.load(open(f"{d}/metrics.json"))); score.append(v)
        print(f"{label:22s} run {k}: wall {wall[-1]:6.1f} s, training {train[-1]:6.1f} s, {rate[-1]:7.0f} seq/s, {name} {v:.2f}")
    rows[side] = (statistics.median(wall), statistics.median(train), statistics.median(rate), statistics.median(score), label, name)
for side in ("one", "two"):
    w, t, r, s, label, name = rows[side]
    print(f"median {label:22s}: wall {w:6.1f} s, training {t:6.1f} s, {r:7.0f} seq/s, {name} {s:.2f}")
print(f"2 ranks / 1 process, training throughput: {rows['two'][2] / rows['one'][2]:.2f}x")
# Time to the same accuracy: the first epoch whose dev accuracy reaches the lowest best dev
# accuracy of all runs (train-log.csv's seconds since the start of training).
import csv
logs = {side: [list(csv.DictReader(open(f"{out}/{side}-{k}/train-log.csv"))) for k in range(1, runs + 1)] for side in ("one", "two")}
col = "dev_accuracy" if "dev_accuracy" in logs["one"][0][0] else None
if col:
    target = min(max(float(r[col]) for r in log) for side in logs for log in logs[side])
    for side in ("one", "two"):
        times = [next(float(r["seconds"]) for r in log if float(r[col]) >= target) for log in logs[side]]
        print(f"time to {100 * target:.2f}% dev accuracy, {rows[side][4]}: median {statistics.median(times):.1f} s ({', '.join(f'{t:.1f}' for t in times)})")
PY
