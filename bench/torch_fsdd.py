#!/usr/bin/env python3
"""The PyTorch equivalent of `grus run Recipes/fsdd.yaml`, for timing side by side.

Same pipeline and settings: Kaldi fbank (40 bins, 25/10 ms, dither 0, 8 kHz resampled to 16 kHz),
global CMVN from the training split, 10% of training held out for dev, 2-layer bidirectional
GRU-128 (dropout 0.1), mean pooling over valid frames, dropout 0.1, linear; Adam lr 2e-3 with
50 warm-up steps and cosine decay, batch 32, 30 epochs, best dev epoch evaluated on the
official test split (index 0-4). 2 threads.

    /tmp/ta/bin/python bench/torch_fsdd.py [--corpus ../shared/corpora/fsdd] [--epochs 30]
"""
import argparse
import math
import os
import random
import time

import numpy as np
import soundfile as sf
import torch
import torchaudio
import torchaudio.compliance.kaldi as kaldi

ap = argparse.ArgumentParser()
ap.add_argument("--corpus", default="../shared/corpora/fsdd")
ap.add_argument("--epochs", type=int, default=30)
a = ap.parse_args()
torch.set_num_threads(2)
torch.manual_seed(1)
random.seed(1)
t0 = time.time()
folder = os.path.join(a.corpus, "recordings") if os.path.isdir(os.path.join(a.corpus, "recordings")) else a.corpus
items = []
for fn in sorted(os.listdir(folder)):
    if fn.endswith(".wav"):
        label, speaker, index = fn[:-4].split("_")
        items.append((os.path.join(folder, fn), int(label), "test" if int(index) < 5 else "train"))
resample = torchaudio.transforms.Resample(8000, 16000)
feats = []
for path, label, split in items:
    y, sr = sf.read(path, dtype="float32")
    w = torch.from_numpy(y).unsqueeze(0)
    if sr != 16000:
        w = resample(w)
    feats.append(kaldi.fbank(w, num_mel_bins=40, dither=0.0, sample_frequency=16000))
train = [i for i, it in enumerate(items) if it[2] == "train"]
random.shuffle(train)
by_label = {}
for i in train:
    by_label.setdefault(items[i][1], []).append(i)
dev = sorted(j for l in by_label.values() for j in l[: round(len(l) * 0.1)])
train = sorted(set(train) - set(dev))
test = [i for i, it in enumerate(items) if it[2] == "test"]
stack = torch.cat([feats[i] for i in train])
mean, std = stack.mean(0), stack.std(0).clamp_min(1e-5)
feats = [(f - mean) / std for f in feats]
print(f"features: {len(items)} clips in {time.time() - t0:.1f} s")


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.gru = torch.nn.GRU(40, 128, num_layers=2, bidirectional=True, dropout=0.1)
        self.drop = torch.nn.Dropout(0.1)
        self.head = torch.nn.Linear(256, 10)

    def forward(self, x, lengths):
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
        out, _ = self.gru(packed)
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out)
        pooled = out.sum(0) / lengths.unsqueeze(1).float()
        return self.head(self.drop(pooled))


def batch(idx):
    xs = [feats[i] for i in idx]
    lengths = torch.tensor([x.shape[0] for x in xs])
    return torch.nn.utils.rnn.pad_sequence(xs), lengths, torch.tensor([items[i][1] for i in idx])


def accuracy(model, idx):
    model.eval()
    correct = 0
    with torch.no_grad():
        for s in range(0, len(idx), 128):
            x, l, y = batch(idx[s:s + 128])
            correct += (model(x, l).argmax(1) == y).sum().item()
    model.train()
    return correct / len(idx)


model = Model()
opt = torch.optim.Adam(model.parameters(), lr=2e-3)
steps_per_epoch = math.ceil(len(train) / 32)
total = steps_per_epoch * a.epochs
sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: (s + 1) / 50 if s < 50 else 0.5 * (1 + math.cos(math.pi * min(1, (s - 50) / max(1, total - 50)))))
best, best_state = -1, None
for epoch in range(a.epochs):
    order = train[:]
    random.shuffle(order)
    for s in range(0, len(order), 32):
        x, l, y = batch(order[s:s + 32])
        loss = torch.nn.functional.cross_entropy(model(x, l), y)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        sched.step()
    d = accuracy(model, dev)
    if d > best:
        best, best_state = d, {k: v.clone() for k, v in model.state_dict().items()}
    print(f"epoch {epoch + 1}: dev {d:.4f} [{time.time() - t0:.1f} s]", flush=True)
model.load_state_dict(best_state)
print(f"test accuracy {accuracy(model, test):.4f}; total {time.time() - t0:.1f} s")
