#!/usr/bin/env bash
# The held-out-speaker runs of bench/loso.sh for several seeds, evaluated as ensembles: for each
# speaker, `grus eval` with one --model per prefix (their posteriors averaged) on that speaker's
# test strings. Prints each speaker's digit error rate (strings right) and the mean.
#   bash bench/loso.sh Recipes/fsdd-digits-transfer.yaml /tmp/s1 --set experiment.seed=1   # and seeds 2, 3
#   bash bench/loso_ensemble.sh corpora/fsdd-digits /tmp/s1 /tmp/s2 /tmp/s3
set -euo pipefail
data=$1; shift
grus=.build/release/grus
for s in george jackson nicolas theo yweweler; do
  models=()
  for p in "$@"; do models+=(--model "$p-$s"); done
  $grus eval "${models[@]}" --data "$data" --split test --report "/tmp/loso-ensemble-$s.json" > /dev/null 2>&1
done
python3 - <<'PY'
import json
vals = []
for s in ["george", "jackson", "nicolas", "theo", "yweweler"]:
    m = json.load(open(f"/tmp/loso-ensemble-{s}.json"))
    vals.append((100 * m["token_error_rate"], 100 * m["sequence_accuracy"]))
    print(f"{s:9s} {vals[-1][0]:6.1f}  strings {vals[-1][1]:.1f}")
print(f"mean      {sum(v[0] for v in vals) / 5:6.1f}  strings {sum(v[1] for v in vals) / 5:.1f}")
PY
