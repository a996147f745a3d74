#!/usr/bin/env python3
"""Reference fixtures for Grus's CTC loss, made with torch.nn.functional.ctc_loss.

Regenerate (from the repository root):
    python3 Tests/GrusNNTests/Fixtures/make_ctc_fixtures.py

Each case: time-major logits [T, B, C] (blank = 0), input lengths, targets, and
loss = ctc_loss(log_softmax(logits), targets, input_lengths, target_lengths, blank=0,
reduction="mean", zero_infinity=...) with its gradient w.r.t. the logits from autograd, in
float64. "ctc_infeasible" has a target that needs more steps than its input has (repeats need
a blank between them), with zero_infinity=True.
"""
import json
import os

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
torch.set_default_dtype(torch.float64)


def case(name, c, lengths, targets, seed, scale=2.0, zero_infinity=False):
    g = torch.Generator().manual_seed(seed)
    t_max, b = max(lengths), len(lengths)
    logits = (scale * torch.randn(t_max, b, c, generator=g)).requires_grad_()
    flat = torch.tensor([y for tg in targets for y in tg], dtype=torch.long)
    loss = torch.nn.functional.ctc_loss(logits.log_softmax(2), flat, torch.tensor(lengths), torch.tensor([len(t) for t in targets]),
                                        blank=0, reduction="mean", zero_infinity=zero_infinity)
    loss.backward()
    out = {"classes": c, "lengths": lengths, "targets": targets, "loss": loss.item(), "zero_infinity": zero_infinity,
           "logits": {"shape": list(logits.shape), "data": logits.detach().reshape(-1).tolist()},
           "grad": {"shape": list(logits.shape), "data": logits.grad.reshape(-1).tolist()}}
    with open(os.path.join(HERE, name + ".json"), "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print("wrote", name, "loss", round(loss.item(), 6))


case("ctc_small", 6, [12, 7, 9, 5], [[1, 2, 2, 3], [5], [4, 4, 4], [1, 2]], seed=1)
g = torch.Generator().manual_seed(7)
digits = [[int(d) for d in torch.randint(1, 11, (int(n),), generator=g)] for n in torch.randint(1, 8, (8,), generator=g)]
case("ctc_digits", 11, [int(x) for x in torch.randint(40, 61, (8,), generator=g)], digits, seed=2, scale=3.0)
case("ctc_infeasible", 5, [6, 3, 8], [[1, 2], [3, 3, 3], [4, 1, 4]], seed=3, zero_infinity=True)
