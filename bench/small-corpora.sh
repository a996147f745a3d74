#!/usr/bin/env bash
# Small real corpora for accepting the shipped recipes, built from ../shared/corpora (real
# recordings, real text) as a new user's own data would look. Nothing is copied: audio files are
# symbolic links, text files are subsets. Only train and dev material of the shared corpora is read.
#
#   bench/small-corpora.sh [OUT] [SHARED] [NAME ...]   (OUT: .build/small-corpora; NAME: all four)
#
#   fsdd-commands/  FSDD in Google's Speech Commands layout: a folder a digit word (zero … nine).
#                   Four speakers' clips 0-9 of each word train (40 a word, 400), their clips 40-44
#                   are validation_list.txt (200), and the fifth speaker's 50 a word are
#                   testing_list.txt (500: a voice never heard). _background_noise_ holds white and
#                   pink noise, as Google's corpus does. FSDD_TEST names another test speaker.
#   fsdd-small/     FSDD's own layout, all five speakers, clips 0-9 of each digit (500): the
#                   official split puts 0-4 in test, so 25 clips a digit train.
#   sst2-1k/        train.tsv: 1,000 of SST-2's training phrases of 15 tokens or more (every 13th),
#                   dev.tsv: the shared honest dev (872 whole sentences); header sentence<TAB>label.
#   atis-10/        ATIS intents: train.tsv every 10th training query (448); dev.tsv and test.tsv
#                   the first and second half of ATIS's valid split (250 each). Header text<TAB>label.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/.build/small-corpora}
shared=${2:-$here/../shared/corpora}
shift $(( $# < 2 ? $# : 2 ))
names=${*:-fsdd-commands fsdd-small sst2-1k atis-10}
want() { [[ " $names " == *" $1 "* ]]; }
test_speaker=${FSDD_TEST:-theo}
if [ ! -d "$shared/fsdd/recordings" ] || [ ! -f "$shared/sst2/train.tsv" ] || [ ! -d "$shared/slu/atis/train" ]; then
  echo "small-corpora: $shared holds no shared corpora (fsdd, sst2, slu/atis); nothing built" >&2
  exit 3
fi
shared=$(cd "$shared" && pwd)
mkdir -p "$out"
words=(zero one two three four five six seven eight nine)

# fsdd-commands: links named SPEAKER_nohash_INDEX.wav under each word.
fc=$out/fsdd-commands
if want fsdd-commands; then
  rm -rf "$fc"; mkdir -p "$fc/_background_noise_"
  : > "$fc/validation_list.txt"; : > "$fc/testing_list.txt"
  for d in 0 1 2 3 4 5 6 7 8 9; do
    w=${words[$d]}; mkdir -p "$fc/$w"
    for f in "$shared"/fsdd/recordings/"$d"_*.wav; do
      b=$(basename "$f" .wav); spk=${b#*_}; spk=${spk%_*}; i=${b##*_}
      if [ "$spk" = "$test_speaker" ]; then list=testing_list.txt
      elif [ "$i" -ge 40 ] && [ "$i" -le 44 ]; then list=validation_list.txt
      elif [ "$i" -lt 10 ]; then list=
      else continue
      fi
      ln -s "$f" "$fc/$w/${spk}_nohash_$i.wav"
      [ -z "$list" ] || echo "$w/${spk}_nohash_$i.wav" >> "$fc/$list"
    done
  done
  # 30 s of white and of pink noise at 8 kHz (Voss-McCartney), 16-bit, from a fixed seed.
  LC_ALL=C awk -v out="$fc/_background_noise_" 'function rnd() { s = (s * 16807) % 2147483647; return s / 2147483647 * 2 - 1 }
  function header(f, n) { printf "RIFF" > f; le(36 + 2*n, 4, f); printf "WAVEfmt " > f; le(16, 4, f); le(1, 2, f); le(1, 2, f)
    le(8000, 4, f); le(16000, 4, f); le(2, 2, f); le(16, 2, f); printf "data" > f; le(2*n, 4, f) }
  function le(v, k, f,   j) { for (j = 0; j < k; j++) { printf "%c", v % 256 > f; v = int(v / 256) } }
  BEGIN { n = 240000; s = 7
    f = out "/white_noise.wav"; header(f, n); for (t = 0; t < n; t++) { v = int(rnd() * 6000); le(v < 0 ? v + 65536 : v, 2, f) }
    f = out "/pink_noise.wav"; header(f, n); for (r = 0; r < 8; r++) row[r] = rnd()
    for (t = 0; t < n; t++) { for (r = 0; r < 8; r++) if (t % (2 ^ r) == 0) row[r] = rnd(); x = 0; for (r = 0; r < 8; r++) x += row[r]
      v = int(x / 8 * 9000); le(v < 0 ? v + 65536 : v, 2, f) } }' </dev/null
fi

# fsdd-small: FSDD's layout, clips 0-9 of every speaker and digit.
fs=$out/fsdd-small
if want fsdd-small; then
  rm -rf "$fs"; mkdir -p "$fs/recordings"
  for f in "$shared"/fsdd/recordings/*_[0-9].wav; do ln -s "$f" "$fs/recordings/$(basename "$f")"; done
fi

# sst2-1k
s2=$out/sst2-1k
if want sst2-1k; then
  rm -rf "$s2"; mkdir -p "$s2"
  awk -F'\t' 'NR == 1 { print; next } split($1, a, " ") >= 15 && (k++ % 13) == 0' "$shared/sst2/train.tsv" > "$s2/train.tsv"
  cp "$shared/sst2/dev.tsv" "$s2/dev.tsv"
fi

# atis-10
at=$out/atis-10
if want atis-10; then
  rm -rf "$at"; mkdir -p "$at"
  tsv() { paste "$1/seq.in" "$1/label" | tr -d '\r'; }
  { printf 'text\tlabel\n'; tsv "$shared/slu/atis/train" | awk 'NR % 10 == 1'; } > "$at/train.tsv"
  n=$(wc -l < "$shared/slu/atis/valid/label"); h=$((n / 2))
  { printf 'text\tlabel\n'; tsv "$shared/slu/atis/valid" | awk -v h="$h" 'NR <= h'; } > "$at/dev.tsv"
  { printf 'text\tlabel\n'; tsv "$shared/slu/atis/valid" | awk -v h="$h" 'NR > h'; } > "$at/test.tsv"
fi

for n in $names; do
  c=$out/$n; [ -d "$c" ] || { echo "small-corpora: no corpus named $n" >&2; exit 2; }
  echo "$(basename "$c"): $(find "$c" -name '*.wav' | wc -l | tr -d ' ') wav, $(cat "$c"/*.tsv 2>/dev/null | wc -l | tr -d ' ') tsv lines"
done
