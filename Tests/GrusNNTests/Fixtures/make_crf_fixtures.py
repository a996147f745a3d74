#!/usr/bin/env python3
"""Reference fixtures for Grus's CRF, made with the pytorch-crf package (`pip install pytorch-crf`).

Regenerate (from the repository root):
    python3 Tests/GrusNNTests/Fixtures/make_crf_fixtures.py

Each case holds pytorch-crf's parameters (transitions, start_transitions, end_transitions),
time-major emissions [T, B, C], ragged lengths, gold tags, the mean negative log-likelihood
(-crf(emissions, tags, mask, reduction='mean')), its gradients from autograd, and the Viterbi
paths of crf.decode. pytorch-crf has no transition mask: forbidden transitions are given a
score of -1e4 there, which Grus's mask (-inf) must match to round-off.
"""
import json
import os

import torch
from torchcrf import CRF

HERE = os.path.dirname(os.path.abspath(__file__))
torch.set_default_dtype(torch.float64)
FORBIDDEN = -1e4


def t2j(t):
    a = t.detach().reshape(-1).tolist()
    return {"shape": list(t.shape), "data": a}


def bio_mask(types):
    """Tags O, B-x, I-x ...; allowed[i][j] may j follow i; start may not be I-x."""
    tags = ["O"] + [p + "-" + x for x in types for p in ("B", "I")]
    c = len(tags)
    allowed = [[not (tags[j].startswith("I-") and tags[i][2:] != tags[j][2:]) for j in range(c)] for i in range(c)]
    start = [not t.startswith("I-") for t in tags]
    return tags, allowed, start


def case(name, c, lengths, seed, types=None):
    g = torch.Generator().manual_seed(seed)
    crf = CRF(c)
    with torch.no_grad():
        crf.transitions.copy_(torch.randn(c, c, generator=g))
        crf.start_transitions.copy_(torch.randn(c, generator=g))
        crf.end_transitions.copy_(torch.randn(c, generator=g))
    allowed = start_ok = None
    if types:
        _, allowed, start_ok = bio_mask(types)
        with torch.no_grad():
            for i in range(c):
                for j in range(c):
                    if not allowed[i][j]:
                        crf.transitions[i, j] = FORBIDDEN
                if not start_ok[i]:
                    crf.start_transitions[i] = FORBIDDEN
    t_max, b = max(lengths), len(lengths)
    emissions = (2 * torch.randn(t_max, b, c, generator=g)).requires_grad_()
    mask = torch.zeros(t_max, b, dtype=torch.bool)
    tags = torch.zeros(t_max, b, dtype=torch.long)
    for s, n in enumerate(lengths):
        mask[:n, s] = True
        prev = None
        for t in range(n):
            options = [j for j in range(c) if (prev is None and (start_ok is None or start_ok[j]))
                       or (prev is not None and (allowed is None or allowed[prev][j]))]
            prev = options[int(torch.randint(len(options), (1,), generator=g))]
            tags[t, s] = prev
    loss = -crf(emissions, tags, mask=mask, reduction="mean")
    loss.backward()
    out = {
        "tags": c, "lengths": lengths, "loss": loss.item(),
        "emissions": t2j(emissions), "targets": [[int(tags[t, s]) for t in range(n)] for s, n in enumerate(lengths)],
        "transitions": t2j(crf.transitions), "start_transitions": t2j(crf.start_transitions),
        "end_transitions": t2j(crf.end_transitions),
        "d_emissions": t2j(emissions.grad), "d_transitions": t2j(crf.transitions.grad),
        "d_start_transitions": t2j(crf.start_transitions.grad), "d_end_transitions": t2j(crf.end_transitions.grad),
        "decoded": crf.decode(emissions.detach(), mask=mask),
    }
    if allowed is not None:
        out["allowed"] = [a for row in allowed for a in row]
        out["allowed_start"] = start_ok
    with open(os.path.join(HERE, name + ".json"), "w") as f:
        json.dump(out, f, separators=(",", ":"))
    print("wrote", name, "loss", round(loss.item(), 6))


case("crf_small", 5, [7, 3, 5, 1], seed=1)
case("crf_bio_masked", 7, [6, 2, 4], seed=2, types=["a", "b", "c"])
case("crf_large", 30, [20, 17, 9, 20, 1, 12, 5, 14], seed=3)
