#!/usr/bin/env python3
"""The same GRU (and LSTM) shapes as grus-bench, in PyTorch, with the same thread count (2).

    python3 bench/torch_gru.py [--runs N]
"""
import sys

import torch

from common import median_seconds

torch.set_num_threads(2)
runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 7

SHAPES = [
    ("speech-train", 64, 98, 40, 128, 2, True, True),
    ("speech-infer", 64, 98, 40, 128, 2, True, False),
    ("text-train", 64, 40, 128, 256, 1, True, True),
    ("latency-b1", 1, 98, 40, 128, 2, False, False),
    ("lstm-speech-train", 64, 98, 40, 128, 2, True, True),
    ("lstm-text-train", 64, 40, 128, 256, 1, True, True),
]

print(f"shape          batch  median-ms      seq/s   GFLOP/s  (runs: {runs}, threads: {torch.get_num_threads()}, torch {torch.__version__})")
for name, B, T, I, H, L, bi, train in SHAPES:
    D = 2 if bi else 1
    lstm = name.startswith("lstm")
    gru = (torch.nn.LSTM if lstm else torch.nn.GRU)(I, H, num_layers=L, bidirectional=bi)
    x = torch.randn(T, B, I)
    flops = B * T * sum(D * (8 if lstm else 6) * H * ((I if l == 0 else D * H) + H) for l in range(L)) * (3 if train else 1)

    def once():
        if train:
            gru.zero_grad()
            out, _ = gru(x)
            out.sum().backward()
        else:
            with torch.inference_mode():
                gru(x)

    m = median_seconds(once, runs, inner=200 if B == 1 else 3, warmup=2)
    print(f"{name:<13} {B:6d} {m * 1000:10.3f} {B / m:10.1f} {flops / m / 1e9:9.1f}")
