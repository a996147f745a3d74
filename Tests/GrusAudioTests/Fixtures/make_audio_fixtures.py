#!/usr/bin/env python3
"""Reference features for Grus's audio front end, from torchaudio and librosa.

The input audio is made here (espeak-ng speech, a chirp, noise), never taken from a corpus.
Needs espeak-ng, numpy, scipy, librosa, and torch + torchaudio of matching versions, e.g.
    python3 -m venv /tmp/ta && /tmp/ta/bin/pip install torch==2.11.0 torchaudio==2.11.0 librosa
Regenerate (from the repository root):
    /tmp/ta/bin/python Tests/GrusAudioTests/Fixtures/make_audio_fixtures.py

Writes <name>.wav (float32, 16 kHz mono) and features.json:
  {"<name>": {"kaldi_fbank": [[...]], "kaldi_mfcc": ..., "librosa_mel": ..., "librosa_mfcc": ...}}
Settings:
  kaldi:   torchaudio.compliance.kaldi.fbank/mfcc(num_mel_bins=40, num_ceps=13, dither=0)
  librosa: librosa.feature.melspectrogram/mfcc(sr=16000, n_fft=512, hop_length=160,
           win_length=400, n_mels=40, fmin=0)  (defaults otherwise: centre, zero padding,
           Hann, Slaney scale and norm; mfcc: n_mfcc=20, top_db=80)
Check real clips (never committed) at their own rate:
    /tmp/ta/bin/python Tests/GrusAudioTests/Fixtures/make_audio_fixtures.py --check ../shared/corpora/fsdd/recordings .build/release/grus
"""
import json
import os
import subprocess
import sys
import tempfile

import librosa
import numpy as np
import scipy.io.wavfile
import scipy.signal
import soundfile as sf
import torch
import torchaudio.compliance.kaldi as kaldi

HERE = os.path.dirname(os.path.abspath(__file__))
SR = 16000


def espeak(text, voice="en-us"):
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "s.wav")
        subprocess.run(["espeak-ng", "-v", voice, "-w", path, text], check=True)
        rate, x = scipy.io.wavfile.read(path)
    x = x.astype(np.float64) / 32768.0
    return scipy.signal.resample_poly(x, SR, rate).astype(np.float32)


def signals():
    rng = np.random.default_rng(3)
    t = np.arange(int(0.7 * SR)) / SR
    return {
        "speech_yes": espeak("yes"),
        "chirp": (0.5 * scipy.signal.chirp(t, f0=100, t1=t[-1], f1=7000, method="logarithmic")).astype(np.float32),
        "noise": (0.1 * rng.standard_normal(int(0.5 * SR))).astype(np.float32),
    }


def features(y):
    # References in float64, so that bins far below a frame's peak are not Float32 rounding noise.
    y = np.asarray(y, dtype=np.float64)
    w = torch.from_numpy(y).unsqueeze(0)
    lib = dict(sr=SR, n_fft=512, hop_length=160, win_length=400, n_mels=40, fmin=0.0)
    return {
        "kaldi_fbank": kaldi.fbank(w, num_mel_bins=40, dither=0.0, sample_frequency=SR).numpy(),
        "kaldi_mfcc": kaldi.mfcc(w, num_mel_bins=40, num_ceps=13, dither=0.0, sample_frequency=SR).numpy(),
        "librosa_mel": librosa.feature.melspectrogram(y=y, **lib).T,
        "librosa_mfcc": librosa.feature.mfcc(y=y, n_mfcc=20, **lib).T,
        # Deltas and delta-deltas of the Kaldi fbank (regression window 2, edges repeated).
        "kaldi_fbank_deltas": _deltas(kaldi.fbank(w, num_mel_bins=40, dither=0.0, sample_frequency=SR)),
    }


def _deltas(fb):
    import torchaudio.functional as F
    d1 = F.compute_deltas(fb.T, win_length=5)
    d2 = F.compute_deltas(d1, win_length=5)
    return torch.cat([fb.T, d1, d2], dim=0).T.numpy()


def main():
    out = {}
    for name, y in signals().items():
        sf.write(os.path.join(HERE, name + ".wav"), y, SR, subtype="FLOAT")
        y, _ = sf.read(os.path.join(HERE, name + ".wav"), dtype="float32")
        out[name] = {k: [[float(f"{v:.8g}") for v in row] for row in np.asarray(m, dtype=np.float32)] for k, m in features(y).items()}
        print(name, len(y), {k: np.asarray(v).shape for k, v in features(y).items()})
    with open(os.path.join(HERE, "features.json"), "w") as f:
        json.dump(out, f, separators=(",", ":"))


def check(folder, grus, limit=300):
    """Runs `grus features` on real clips (at their own rate) and compares with the references.
    Prints the largest errors: absolute for log features and MFCC, relative for librosa's mel."""
    wavs = sorted(f for f in os.listdir(folder) if f.endswith(".wav"))[:limit]
    worst = {}
    with tempfile.TemporaryDirectory() as tmp:
        rate = sf.info(os.path.join(folder, wavs[0])).samplerate
        hop, win, nfft = rate // 100, rate * 25 // 1000, 1 << (rate * 25 // 1000 - 1).bit_length()
        runs = {
            "kaldi_fbank": ["--preset", "kaldi", "--kind", "fbank"],
            "kaldi_mfcc": ["--preset", "kaldi", "--kind", "mfcc"],
            "librosa_mel": ["--preset", "librosa", "--kind", "fbank", "--log", "none", "--nfft", str(nfft)],
            "librosa_mfcc": ["--preset", "librosa", "--kind", "mfcc", "--nfft", str(nfft)],
        }
        for kind, args in runs.items():
            out = os.path.join(tmp, kind)
            subprocess.run([grus, "features", "--sample-rate", str(rate), "--output", out] + args
                           + [os.path.join(folder, f) for f in wavs], check=True, stdout=subprocess.DEVNULL)
        for fn in wavs:
            y, r = sf.read(os.path.join(folder, fn), dtype="float32")
            y = np.asarray(y, dtype=np.float64)
            w = torch.from_numpy(y).unsqueeze(0)
            lib = dict(sr=r, n_fft=nfft, hop_length=hop, win_length=win, n_mels=40, fmin=0.0)
            ref = {
                "kaldi_fbank": kaldi.fbank(w, num_mel_bins=40, dither=0.0, sample_frequency=r).numpy(),
                "kaldi_mfcc": kaldi.mfcc(w, num_mel_bins=40, num_ceps=13, dither=0.0, sample_frequency=r).numpy(),
                "librosa_mel": librosa.feature.melspectrogram(y=y, **lib).T,
                "librosa_mfcc": librosa.feature.mfcc(y=y, n_mfcc=20, **lib).T,
            }
            for kind, rv in ref.items():
                g = np.load(os.path.join(tmp, kind, fn[:-4] + ".npy")).astype(np.float64)
                assert g.shape == rv.shape, (kind, fn, g.shape, rv.shape)
                err = np.abs(g - rv)
                e = float((err / np.maximum(np.abs(rv), 1e-30)).max()) if kind == "librosa_mel" else float(err.max())
                worst[kind] = max(worst.get(kind, 0.0), e)
    print(f"{len(wavs)} clips at {rate} Hz; largest error (relative for librosa_mel, absolute otherwise):")
    print(json.dumps(worst, indent=1))


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--check":
        check(sys.argv[2], sys.argv[3])  # --check FOLDER PATH_TO_GRUS
    else:
        main()
