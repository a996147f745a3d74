#!/usr/bin/env python3
"""One training step of a BiGRU-CRF tagger in PyTorch + pytorch-crf, the same shape and data as
`grus-bench --only tagger-train`: batch 32, ragged lengths 6-25, vocabulary 900, embedding 128,
bidirectional GRU-128, 127 tags, CRF loss (mean over sentences), backward, Adam. 2 threads.

    pip install torch pytorch-crf
    python3 bench/torch_tagger.py [--runs 7] [--softmax]

--softmax: per-step cross-entropy over the valid steps instead of the CRF (grus-bench --only tagger-softmax).
"""
import sys

import torch
from torchcrf import CRF

from common import median_seconds

torch.set_num_threads(2)
runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 7
softmax = "--softmax" in sys.argv
B, V, E, H, C = 32, 900, 128, 128, 127
lengths = [6 + (j * 7) % 20 for j in range(B)]
T = max(lengths)
ids = torch.zeros(T, B, dtype=torch.long)
tags = torch.zeros(T, B, dtype=torch.long)
mask = torch.zeros(T, B, dtype=torch.bool)
for j, n in enumerate(lengths):
    for t in range(n):
        ids[t, j] = 1 + (t * 31 + j * 17) % (V - 1)
        tags[t, j] = (t * 13 + j * 5) % C
        mask[t, j] = True


class Tagger(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(V, E, padding_idx=0)
        self.gru = torch.nn.GRU(E, H, bidirectional=True)
        self.head = torch.nn.Linear(2 * H, C)
        self.crf = CRF(C)

    def forward(self, ids, lengths):
        packed = torch.nn.utils.rnn.pack_padded_sequence(self.emb(ids), lengths, enforce_sorted=False)
        out, _ = self.gru(packed)
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=ids.shape[0])
        return self.head(out)


model = Tagger()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
lengths_t = torch.tensor(lengths)


def once():
    opt.zero_grad()
    emissions = model(ids, lengths_t)
    if softmax:
        loss = torch.nn.functional.cross_entropy(emissions[mask], tags[mask])
    else:
        loss = -model.crf(emissions, tags, mask=mask, reduction="mean")
    loss.backward()
    opt.step()


m = median_seconds(once, runs, inner=10, warmup=3)
print(f"{'tagger-softmax' if softmax else 'tagger-train':<14} {B:5d} {m * 1000:10.3f} {B / m:10.1f}   (torch {torch.__version__}, {torch.get_num_threads()} threads)")
