#!/usr/bin/env python3
"""Long recordings for keyword-spotting evaluation: test clips of the synthetic speech-commands
corpus (voices never heard in training) joined with 0.5-2 s of low noise between them, and a
truth TSV of where each command word's clip lies (start, end, label; _unknown_ and _silence_
clips are there too, as fillers, and are not keywords). Standard library only.

    python3 bench/kws_long.py [--corpus corpora/speech-commands-synth] [--clips 600] [--out /tmp/kws]
    grus stream --model experiments/kws-streaming /tmp/kws/long.wav --truth /tmp/kws/truth.tsv
"""
import argparse
import os
import random
import struct
import wave

ap = argparse.ArgumentParser()
ap.add_argument("--corpus", default="corpora/speech-commands-synth")
ap.add_argument("--clips", type=int, default=600)
ap.add_argument("--out", default="/tmp/kws")
ap.add_argument("--seed", type=int, default=3)
a = ap.parse_args()
rng = random.Random(a.seed)
names = [l.strip() for l in open(os.path.join(a.corpus, "testing_list.txt")) if l.strip()]
rng.shuffle(names)
names = names[:a.clips]
os.makedirs(a.out, exist_ok=True)
rate = 16000
samples, truth = [], []


def noise(seconds):
    level = 0.003
    return [int(32767 * level * rng.gauss(0, 1)) for _ in range(int(seconds * rate))]


for name in names:
    samples += noise(rng.uniform(0.5, 2.0))
    with wave.open(os.path.join(a.corpus, name)) as w:
        assert w.getframerate() == rate and w.getsampwidth() == 2 and w.getnchannels() == 1, name
        clip = struct.unpack("<%dh" % w.getnframes(), w.readframes(w.getnframes()))
    start = len(samples) / rate
    samples += clip
    label = name.split("/")[0]
    if not label.startswith("_"):
        truth.append((start, len(samples) / rate, label))
samples += noise(1.0)
with wave.open(os.path.join(a.out, "long.wav"), "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(rate)
    w.writeframes(struct.pack("<%dh" % len(samples), *[max(-32768, min(32767, s)) for s in samples]))
with open(os.path.join(a.out, "truth.tsv"), "w") as f:
    f.write("start\tend\tlabel\n")
    for s, e, l in truth:
        f.write(f"{s:.3f}\t{e:.3f}\t{l}\n")
print(f"{a.out}/long.wav: {len(samples) / rate:.1f} s, {len(names)} clips, {len(truth)} keywords")
