#!/usr/bin/env bash
# The tagging recipes side by side with their PyTorch equivalents (bench/torch_tagging.py), one
# after the other on an otherwise idle machine: accuracy on the valid / carved dev split and
# wall-clock seconds. Needs ../shared/corpora (ATIS, SNIPS, UD EWT) and `pip install torch pytorch-crf`.
#   swift build -c release --product grus && bash bench/tagging.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-/tmp/grus-tagging-bench}
if [ ! -d ../shared/corpora/slu/atis ]; then echo "bench/tagging.sh: ../shared/corpora is absent; these benchmarks need ATIS, SNIPS and UD EWT there" >&2; exit 1; fi
mkdir -p "$out"
for r in atis snips ud-pos; do
  rm -rf "$out/$r"
  start=$(date +%s%N)
  .build/release/grus run Recipes/$r.yaml --set experiment.out="$out/$r" > "$out/$r.grus.log" 2>&1
  grus_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  extra=(); [ "$r" = ud-pos ] && extra=(--dev-from "$out/$r/predictions.jsonl")
  start=$(date +%s%N)
  python3 bench/torch_tagging.py "$r" "${extra[@]}" > "$out/$r.torch.log" 2>&1
  torch_ms=$(( ($(date +%s%N) - start) / 1000000 ))
  printf '%s\tgrus %d ms\t%s\n' "$r" "$grus_ms" "$(grep -E '^dev:' "$out/$r.grus.log")"
  printf '%s\tpytorch %d ms\t%s\n' "$r" "$torch_ms" "$(tail -1 "$out/$r.torch.log")"
done
