#!/usr/bin/env bash
# Behaviour fingerprints: trains five recipes on one thread with their own seed and prints the
# SHA-256 of each run's model/model.safetensors and metrics.json. A change meant to keep
# behaviour (a restructure) must leave every line of bench/fingerprints.txt as it is:
#
#   bash bench/fingerprints.sh OUT > /tmp/now.txt && diff bench/fingerprints.txt /tmp/now.txt
#
# fsdd.yaml reads ../shared/corpora/fsdd; without it that line says "absent". digits.yaml runs
# 3 epochs (the whole run takes minutes; 3 epochs exercise the same code).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bench/fingerprints.sh OUT_FOLDER [GRUS_BINARY]}
grus=${2:-.build/release/grus}
mkdir -p "$out"
run() {   # name recipe [--set ...]
    local name=$1 recipe=$2; shift 2
    "$grus" run "$recipe" --out "$out/$name" --set training.threads=1 "$@" > "$out/$name.log" 2>&1 \
        || { echo "$name: grus run failed (see $out/$name.log)" >&2; return 1; }
    for f in model/model.safetensors metrics.json; do
        printf '%s %s\n' "$(sha256sum < "$out/$name/$f" | cut -c1-64)" "$name/$f"
    done
}
run text-intents Recipes/text-intents.yaml
run home-slots Recipes/home-slots.yaml
if [ -d ../shared/corpora/fsdd ]; then run fsdd Recipes/fsdd.yaml; else echo "absent: ../shared/corpora/fsdd (fsdd.yaml not run)"; fi
run digits Recipes/digits.yaml --set training.epochs=3
run speech-commands Recipes/speech-commands.yaml
