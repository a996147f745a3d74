#!/usr/bin/env python3
"""A small corpus in Google Speech Commands layout, for checking that a recipe written for the
full corpus still trains on a small one (20 words, about 24 clips a word).

Each clip: one word spoken by espeak-ng (English accents x voice variants, random pitch and
rate), resampled to 16 kHz, placed at a random offset in one second with white noise at a random
SNR. Voices are split 70/15/15 into train, validation_list.txt and testing_list.txt, so test
voices are never heard in training. Needs espeak-ng, numpy and scipy.

    python3 bench/small_speech_commands.py OUT_DIR [--voices 24] [--seed 1]
"""
import argparse, os, subprocess, tempfile
import numpy as np
from scipy.io import wavfile
from scipy.signal import resample_poly

WORDS = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go",
         "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
ACCENTS = ["en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc"]
VARIANTS = ["m1", "m2", "m3", "m4", "f1", "f2", "f3", "f4"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--voices", type=int, default=24)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    voices = [(acc, var) for acc in ACCENTS for var in VARIANTS]
    rng.shuffle(voices)
    voices = voices[:a.voices]
    n_test = n_dev = max(1, round(0.15 * len(voices)))
    lists = {"validation_list.txt": [], "testing_list.txt": []}
    with tempfile.TemporaryDirectory() as tmp:
        raw = os.path.join(tmp, "w.wav")
        for vi, (acc, var) in enumerate(voices):
            split = "testing_list.txt" if vi < n_test else ("validation_list.txt" if vi < n_test + n_dev else None)
            for w in WORDS:
                pitch, rate = int(rng.integers(25, 75)), int(rng.integers(120, 200))
                subprocess.run(["espeak-ng", "-v", f"{acc}+{var}", "-p", str(pitch), "-s", str(rate), "-w", raw, w], check=True)
                sr, x = wavfile.read(raw)
                x = x.astype(np.float32) / 32768
                if sr != 16000:
                    g = np.gcd(sr, 16000)
                    x = resample_poly(x, 16000 // g, sr // g).astype(np.float32)
                loud = np.flatnonzero(np.abs(x) > 1e-3)      # trim leading and trailing silence
                if loud.size:
                    x = x[loud[0]:loud[-1] + 1]
                clip = np.zeros(16000, np.float32)
                x = x[:16000]
                off = int(rng.integers(0, 16000 - len(x) + 1))
                clip[off:off + len(x)] = x
                snr = rng.uniform(10, 30)
                noise = rng.normal(size=16000).astype(np.float32)
                noise *= np.sqrt(np.mean(x ** 2) / 10 ** (snr / 10) / np.mean(noise ** 2))
                clip += noise
                name = f"{w}/v{vi:03d}_nohash_0.wav"
                os.makedirs(os.path.join(a.out, w), exist_ok=True)
                wavfile.write(os.path.join(a.out, name), 16000, (np.clip(clip, -1, 1) * 32767).astype(np.int16))
                if split:
                    lists[split].append(name)
    os.makedirs(os.path.join(a.out, "_background_noise_"), exist_ok=True)
    wavfile.write(os.path.join(a.out, "_background_noise_", "white.wav"), 16000,
                  (rng.normal(size=160000) * 0.1 * 32767).clip(-32767, 32767).astype(np.int16))
    for name, rows in lists.items():
        with open(os.path.join(a.out, name), "w") as f:
            f.write("\n".join(rows) + "\n")
    print(f"{len(voices)} voices x {len(WORDS)} words in {a.out}")


if __name__ == "__main__":
    main()
