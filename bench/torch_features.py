#!/usr/bin/env python3
"""Peers for `grus-bench --only features`: 1000 one-second 16 kHz clips to 40-bin log-mel
(25 ms window, 10 ms hop, n_fft 512), one clip at a time, compute only, 2 threads.

Needs torch and torchaudio of matching versions, and librosa, e.g.
    python3 -m venv /tmp/ta && /tmp/ta/bin/pip install torch==2.11.0 torchaudio==2.11.0 librosa
    /tmp/ta/bin/python bench/torch_features.py [--runs 5]
The clips are the same chirps as grus-bench's (their added noise differs; timing does not
depend on it).
"""
import statistics
import sys
import time

import librosa
import numpy as np
import torch
import torchaudio
import torchaudio.compliance.kaldi as kaldi

torch.set_num_threads(2)
runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 5
rate, count = 16000, 1000
rng = np.random.default_rng(7)
t = np.arange(rate) / rate
clips = [(0.3 * np.sin(2 * np.pi * (100 + (c % 50) * 40) * t * (1 + t)) + 0.05 * rng.standard_normal(rate)).astype(np.float32)
         for c in range(count)]
tclips = [torch.from_numpy(c) for c in clips]
mel = torchaudio.transforms.MelSpectrogram(sample_rate=rate, n_fft=512, win_length=400, hop_length=160, n_mels=40)


def bench(name, fn):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for i in range(count):
            fn(i)
        times.append(time.perf_counter() - t0)
    print(f"{name}: {count / statistics.median(times):.0f} clips/s")


with torch.inference_mode():
    bench("torchaudio.transforms.MelSpectrogram + log", lambda i: torch.log(mel(tclips[i]) + 1e-6))
    bench("torchaudio.compliance.kaldi.fbank", lambda i: kaldi.fbank(tclips[i].unsqueeze(0), num_mel_bins=40, dither=0.0))
bench("librosa.feature.melspectrogram + log", lambda i: np.log(librosa.feature.melspectrogram(
    y=clips[i], sr=rate, n_fft=512, win_length=400, hop_length=160, n_mels=40) + 1e-6))
