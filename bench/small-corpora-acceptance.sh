#!/usr/bin/env bash
# The shipped recipes on small real corpora (bench/small-corpora.sh), with only their paths (and
# for speech-commands.yaml the format, for the text recipes the column names) changed: as
# shipped, as shipped before the step floor (training.min_steps 0), and a long hand-set run.
# Seeds 1-3 each (grus run --seeds 3, one thread a run), then grus compare --markdown.
#
#   bash bench/small-corpora-acceptance.sh [OUT]     (OUT: .build/acceptance; about 3 hours on 2 cores)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/.build/acceptance}
grus=${GRUS:-$here/.build/release/grus}
sc=$out/corpora
bash "$here/bench/small-corpora.sh" "$sc"
mkdir -p "$out"
run() {   # NAME RECIPE --set ...
  local name=$1 recipe=$2; shift 2
  [ -f "$out/$name/seeds.json" ] || "$grus" run "$here/Recipes/$recipe.yaml" --seeds 3 --out "$out/$name" --set training.threads=1 "$@" > "$out/$name.log" 2>&1
}
fc=$sc/fsdd-commands
gsc=(--set corpus.path=$fc --set frontend.audio.augment.noise_folder=$fc/_background_noise_ --set corpus.twelve_class=false)
scy=(--set corpus.format=speech_commands --set corpus.path=$fc)
fsdd=(--set corpus.path=$sc/fsdd-small)
ti=(--set corpus.path=$sc/atis-10)
ti_sst=(--set corpus.path=$sc/sst2-1k --set corpus.text_column=sentence --set corpus.test=)
sst=(--set corpus.path=$sc/sst2-1k)
sst_atis=(--set corpus.path=$sc/atis-10 --set corpus.text_column=text --set corpus.test=test.tsv --set "evaluation.splits=[dev,test]")

run gsc google-speech-commands "${gsc[@]}"
run gsc-before google-speech-commands "${gsc[@]}" --set training.min_steps=0 --set training.early_stopping.patience_steps=0
run gsc-long google-speech-commands "${gsc[@]}" --set training.epochs=300 --set training.early_stopping.patience=0 --set training.early_stopping.patience_steps=0
run sc speech-commands "${scy[@]}"
run sc-before speech-commands "${scy[@]}" --set training.min_steps=0
run sc-long speech-commands "${scy[@]}" --set training.epochs=300
run fsdd fsdd "${fsdd[@]}"
run fsdd-before fsdd "${fsdd[@]}" --set training.min_steps=0
run fsdd-long fsdd "${fsdd[@]}" --set training.epochs=300
run ti-atis text-intents "${ti[@]}"
run ti-atis-before text-intents "${ti[@]}" --set training.min_steps=0 --set training.early_stopping.patience_steps=0
run ti-atis-long text-intents "${ti[@]}" --set training.epochs=300 --set training.early_stopping.patience=0 --set training.early_stopping.patience_steps=0
run ti-sst text-intents "${ti_sst[@]}"
run ti-sst-before text-intents "${ti_sst[@]}" --set training.min_steps=0 --set training.early_stopping.patience_steps=0
run ti-sst-long text-intents "${ti_sst[@]}" --set training.epochs=200 --set training.min_steps=0 --set training.early_stopping.patience=0 --set training.early_stopping.patience_steps=0
run sst sst2 "${sst[@]}"
run sst-before sst2 "${sst[@]}" --set training.min_steps=0 --set training.early_stopping.patience_steps=0
run sst-long sst2 "${sst[@]}" --set training.epochs=40 --set training.min_steps=0 --set training.early_stopping.patience_steps=0
run sst-atis sst2 "${sst_atis[@]}"
run sst-atis-before sst2 "${sst_atis[@]}" --set training.min_steps=0 --set training.early_stopping.patience_steps=0
run sst-atis-long sst2 "${sst_atis[@]}" --set training.epochs=300 --set training.min_steps=0 --set training.early_stopping.patience_steps=0
for group in gsc sc fsdd ti-atis ti-sst sst sst-atis; do
  "$grus" compare --markdown "$out/$group-before" "$out/$group" "$out/$group-long"
done
