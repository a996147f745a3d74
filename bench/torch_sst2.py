#!/usr/bin/env python3
"""The PyTorch equivalent of `grus run Recipes/sst2.yaml`, for timing side by side.

Same settings: NFKC + case folding, words split on white space with punctuation split off,
vocabulary from train.tsv, embedding 128, 1-layer bidirectional GRU-256, max pooling over valid
steps, dropout 0.3, linear; Adam lr 1e-3, gradient clipping 5, batch 64 with length bucketing,
4 epochs; best dev epoch reported. 2 threads.

    python3 bench/torch_sst2.py [--corpus ../shared/corpora/sst2] [--epochs 4]
"""
import argparse
import random
import re
import time
import unicodedata

import torch

from common import bucketed_batches

ap = argparse.ArgumentParser()
ap.add_argument("--corpus", default="../shared/corpora/sst2")
ap.add_argument("--epochs", type=int, default=4)
a = ap.parse_args()
torch.set_num_threads(2)
torch.manual_seed(1)
random.seed(1)
t0 = time.time()
TOKEN = re.compile(r"[^\W_]+|[^\w\s]|_", re.UNICODE)


def tokens(s):
    return TOKEN.findall(unicodedata.normalize("NFKC", s).casefold())


def read(name):
    rows = [l.split("\t") for l in open(f"{a.corpus}/{name}", encoding="utf-8").read().splitlines()[1:]]
    return [(tokens(s), int(y)) for s, y in rows if s.strip()]


train, dev = read("train.tsv"), read("dev.tsv")
vocab = {"<pad>": 0, "<unk>": 1}
for ws, _ in train:
    for w in ws:
        vocab.setdefault(w, len(vocab))
enc = lambda ws: [vocab.get(w, 1) for w in ws] or [1]
train = [(enc(w), y) for w, y in train]
dev = [(enc(w), y) for w, y in dev]
print(f"vocabulary {len(vocab)}; data ready in {time.time() - t0:.1f} s")


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(len(vocab), 128, padding_idx=0)
        self.gru = torch.nn.GRU(128, 256, bidirectional=True)
        self.drop = torch.nn.Dropout(0.3)
        self.head = torch.nn.Linear(512, 2)

    def forward(self, ids, lengths):
        packed = torch.nn.utils.rnn.pack_padded_sequence(self.emb(ids), lengths, enforce_sorted=False)
        out, _ = self.gru(packed)
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, padding_value=-1e9)
        return self.head(self.drop(out.max(0).values))


def batch(rows):
    lengths = torch.tensor([len(r[0]) for r in rows])
    ids = torch.nn.utils.rnn.pad_sequence([torch.tensor(r[0]) for r in rows])
    return ids, lengths, torch.tensor([r[1] for r in rows])


def batches(data, size):
    return bucketed_batches(data, size)


model = Model()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
best = 0
for epoch in range(a.epochs):
    model.train()
    for b in batches(train, 64):
        ids, l, y = batch([train[i] for i in b])
        loss = torch.nn.functional.cross_entropy(model(ids, l), y)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
    model.eval()
    correct = 0
    with torch.no_grad():
        for s in range(0, len(dev), 256):
            ids, l, y = batch(dev[s:s + 256])
            correct += (model(ids, l).argmax(1) == y).sum().item()
    best = max(best, correct / len(dev))
    print(f"epoch {epoch + 1}: dev {correct / len(dev):.4f} [{time.time() - t0:.1f} s]", flush=True)
print(f"best dev accuracy {best:.4f}; total {time.time() - t0:.1f} s")
