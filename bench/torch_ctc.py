#!/usr/bin/env python3
"""CTC loss + gradient w.r.t. the logits in PyTorch (log_softmax + ctc_loss, reduction "mean",
zero_infinity), the same shapes, lengths and targets as `grus-bench --only ctc`. 2 threads.

    python3 bench/torch_ctc.py [--runs 7]
"""
import sys

import torch

from common import median_seconds

torch.set_num_threads(2)
runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 7
print(f"shape          batch  median-ms   (torch {torch.__version__}, {torch.get_num_threads()} threads)")
for name, T, C, lo, hi in [("ctc-digits", 100, 11, 1, 7), ("ctc-chars", 300, 29, 30, 60)]:
    B = 32
    torch.manual_seed(5)
    logits = torch.randn(T, B, C, requires_grad=True)
    lengths = torch.tensor([T - (j * 7) % (T // 4) for j in range(B)])
    targets = [[1 + (k * 3 + j) % (C - 1) for k in range(lo + (j * 5) % (hi - lo + 1))] for j in range(B)]
    flat = torch.tensor([y for tg in targets for y in tg])
    tl = torch.tensor([len(tg) for tg in targets])

    def once():
        logits.grad = None
        loss = torch.nn.functional.ctc_loss(logits.log_softmax(2), flat, lengths, tl, blank=0, reduction="mean", zero_infinity=True)
        loss.backward()

    print(f"{name:<14} {B:5d} {median_seconds(once, runs, inner=20, warmup=3) * 1000:10.3f}")
