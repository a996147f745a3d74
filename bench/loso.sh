#!/usr/bin/env bash
# Leave-one-speaker-out over the five shared FSDD speakers: trains RECIPE once per held-out
# speaker (extra arguments go to `grus run`, e.g. --set frontend.audio.cmvn=speaker) and prints
# each speaker's accuracy (or digit error rate) and the mean.
#   bash bench/loso.sh Recipes/fsdd.yaml OUT_PREFIX [--set key=value ...]
set -euo pipefail
recipe=$1; prefix=$2; shift 2
fsdd=${FSDD:-../shared/corpora/fsdd}
[ -d "$fsdd" ] || { echo "loso.sh: $fsdd is absent (the shared FSDD corpus); set FSDD=/path/to/fsdd/recordings" >&2; exit 2; }
grus=.build/release/grus
for s in george jackson nicolas theo yweweler; do
  $grus run "$recipe" --out "$prefix-$s" --set corpus.split=speaker --set corpus.test_speaker=$s "$@" > /dev/null
done
python3 - "$prefix" <<'PY'
import json, sys
p = sys.argv[1]
vals = []
for s in ["george", "jackson", "nicolas", "theo", "yweweler"]:
    m = json.load(open(f"{p}-{s}/metrics.json"))
    v = 100 * m["accuracy"] if "accuracy" in m else 100 * m["token_error_rate"]
    vals.append(v)
    print(f"{s:9s} {v:6.1f}" + ("" if "accuracy" in m else f"  strings {100 * m['sequence_accuracy']:.1f}"))
print(f"mean      {sum(vals) / len(vals):6.1f}")
PY
