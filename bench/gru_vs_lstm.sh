#!/usr/bin/env bash
# GRU against LSTM on Grus's own recipes, 3 seeds each: parameters, training time, accuracy.
# Needs the shared corpora (../shared/corpora: UD English EWT, SST-2, FSDD).
#   bash bench/gru_vs_lstm.sh [OUT=experiments/gru-vs-lstm]
set -euo pipefail
out=${1:-experiments/gru-vs-lstm}
shared=../shared/corpora
[ -d "$shared" ] || { echo "gru_vs_lstm.sh: $shared is absent (the shared corpora); nothing to compare on" >&2; exit 2; }
grus=.build/release/grus
for recipe in ud-pos sst2 fsdd; do
  for cell in gru lstm; do
    $grus run Recipes/$recipe.yaml --seeds 3 --out "$out/$recipe-$cell" --set model.encoder.cell=$cell > "$out-$recipe-$cell.log" 2>&1 || { echo "failed: $recipe $cell (see $out-$recipe-$cell.log)" >&2; exit 1; }
  done
  $grus compare "$out/$recipe-gru" "$out/$recipe-lstm" --markdown
done
