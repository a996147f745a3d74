#!/usr/bin/env python3
"""Reference fixtures for Grus's GRU, loss and optimisers, made with PyTorch.

Regenerate (from the repository root):
    python3 Tests/GrusNNTests/Fixtures/make_fixtures.py          (everything)
    python3 Tests/GrusNNTests/Fixtures/make_fixtures.py --lstm   (the nn.LSTM cases only)

Check that a weights file written by Grus loads into torch.nn.GRU:
    GRUS_EXPORT_DIR=/tmp/grus-export swift test --filter TorchExportTests
    python3 Tests/GrusNNTests/Fixtures/make_fixtures.py --check-export /tmp/grus-export

Every fixture is JSON: {"name": {"shape": [...], "data": [...]}, ...} plus a few scalars.
The cho2014 reference is a hand-written PyTorch loop (autograd gives its gradients), itself
checked here against an independent NumPy implementation of the same equations.
"""
import json
import os
import struct
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
torch.set_default_dtype(torch.float64)  # references in double; Grus compares in float32


def t2j(t):
    a = t.detach().cpu().numpy().astype(np.float64)
    return {"shape": list(a.shape), "data": [float(v) for v in a.reshape(-1)]}


def write(name, d):
    with open(os.path.join(HERE, name + ".json"), "w") as f:
        json.dump(d, f, separators=(",", ":"))
    print("wrote", name)


def gru_case(name, I, H, L, bidir, lengths, T, seed, with_h0=True, cell="gru"):
    """nn.GRU (or nn.LSTM, with a zero initial cell state: Grus takes an initial hidden state
    only) on a padded time-major batch through pack_padded_sequence. Gradients flow from the
    outputs and h_n."""
    g = torch.Generator().manual_seed(seed)
    B = len(lengths)
    D = 2 if bidir else 1
    rnn = (torch.nn.LSTM if cell == "lstm" else torch.nn.GRU)(I, H, num_layers=L, bidirectional=bidir)
    with torch.no_grad():
        for p in rnn.parameters():
            p.copy_(torch.rand(p.shape, generator=g) * 0.8 - 0.4)
    x = torch.randn(T, B, I, generator=g, requires_grad=True)
    h0 = (torch.randn(L * D, B, H, generator=g) * 0.5).requires_grad_(True) if with_h0 else None
    lens = torch.tensor(lengths)
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, lens, enforce_sorted=False)
    if cell == "lstm":
        out_p, (hn, _) = rnn(packed, (h0 if with_h0 else torch.zeros(L * D, B, H), torch.zeros(L * D, B, H)))
    else:
        out_p, hn = rnn(packed, h0)
    out, _ = torch.nn.utils.rnn.pad_packed_sequence(out_p, total_length=T)
    gout = torch.randn(T, B, D * H, generator=g)
    ghn = torch.randn(L * D, B, H, generator=g)
    (out * gout).sum().add_((hn * ghn).sum()).backward()
    config = {"input": I, "hidden": H, "layers": L, "bidirectional": bidir, "form": "pytorch"}
    if cell == "lstm":
        config["cell"] = "lstm"
    d = {"config": config, "lengths": lengths, "x": t2j(x), "output": t2j(out), "h_n": t2j(hn),
         "grad_output": t2j(gout), "grad_h_n": t2j(ghn), "grad_x": t2j(x.grad)}
    if with_h0:
        d["h0"] = t2j(h0)
        d["grad_h0"] = t2j(h0.grad)
    d["weights"] = {n: t2j(p) for n, p in rnn.named_parameters()}
    d["grads"] = {n: t2j(p.grad) for n, p in rnn.named_parameters()}
    write(name, d)


def cho_direction(x, lengths, w_ih, w_hh, b_ih, b_hh, h0, reverse):
    """One direction of the cho2014 GRU in torch ops; padded frames give zeros and keep the state."""
    T, B, _ = x.shape
    H = w_hh.shape[1]
    h = h0
    outs = [None] * T
    steps = range(T - 1, -1, -1) if reverse else range(T)
    for t in steps:
        m = (torch.tensor(lengths) > t).to(x.dtype).unsqueeze(1)
        gi = x[t] @ w_ih.T + b_ih
        ghrz = h @ w_hh[: 2 * H].T + b_hh[: 2 * H]
        r = torch.sigmoid(gi[:, :H] + ghrz[:, :H])
        z = torch.sigmoid(gi[:, H:2 * H] + ghrz[:, H:])
        n = torch.tanh(gi[:, 2 * H:] + (r * h) @ w_hh[2 * H:].T + b_hh[2 * H:])
        hn = (1 - z) * n + z * h
        h = m * hn + (1 - m) * h
        outs[t] = m * hn
    return torch.stack(outs), h


def cho_numpy(x, lengths, w, L, D, h0):
    """Independent NumPy forward of the stacked cho2014 GRU (no torch)."""
    sig = lambda a: 1 / (1 + np.exp(-a))
    T, B, _ = x.shape
    inp = x
    hns = []
    for l in range(L):
        outs = []
        for d in range(D):
            sfx = f"l{l}" + ("_reverse" if d else "")
            Wi, Wh, bi, bh = (w["weight_ih_" + sfx], w["weight_hh_" + sfx], w["bias_ih_" + sfx], w["bias_hh_" + sfx])
            H = Wh.shape[1]
            y = np.zeros((T, B, H))
            hn = np.zeros((B, H))
            for b in range(B):
                h = h0[l * D + d, b].copy()
                order = range(lengths[b] - 1, -1, -1) if d else range(lengths[b])
                for t in order:
                    xt = inp[t, b]
                    r = sig(Wi[:H] @ xt + bi[:H] + Wh[:H] @ h + bh[:H])
                    z = sig(Wi[H:2 * H] @ xt + bi[H:2 * H] + Wh[H:2 * H] @ h + bh[H:2 * H])
                    n = np.tanh(Wi[2 * H:] @ xt + bi[2 * H:] + Wh[2 * H:] @ (r * h) + bh[2 * H:])
                    h = (1 - z) * n + z * h
                    y[t, b] = h
                hn[b] = h
            outs.append(y)
            hns.append(hn)
        inp = np.concatenate(outs, axis=2)
    return inp, np.stack(hns)


def cho_case(name, I, H, L, bidir, lengths, T, seed):
    g = torch.Generator().manual_seed(seed)
    B, D = len(lengths), (2 if bidir else 1)
    weights = {}
    for l in range(L):
        for d in range(D):
            sfx = f"l{l}" + ("_reverse" if d else "")
            In = I if l == 0 else D * H
            for nm, shp in (("weight_ih_", (3 * H, In)), ("weight_hh_", (3 * H, H)), ("bias_ih_", (3 * H,)), ("bias_hh_", (3 * H,))):
                weights[nm + sfx] = (torch.rand(shp, generator=g) * 0.8 - 0.4).requires_grad_(True)
    x = torch.randn(T, B, I, generator=g, requires_grad=True)
    h0 = (torch.randn(L * D, B, H, generator=g) * 0.5).requires_grad_(True)
    inp, hns = x, []
    for l in range(L):
        outs = []
        for d in range(D):
            sfx = f"l{l}" + ("_reverse" if d else "")
            y, hn = cho_direction(inp, lengths, weights["weight_ih_" + sfx], weights["weight_hh_" + sfx],
                                  weights["bias_ih_" + sfx], weights["bias_hh_" + sfx], h0[l * D + d], bool(d))
            outs.append(y)
            hns.append(hn)
        inp = torch.cat(outs, dim=2)
    out, hn = inp, torch.stack(hns)
    ny, nh = cho_numpy(x.detach().numpy(), lengths, {k: v.detach().numpy() for k, v in weights.items()}, L, D, h0.detach().numpy())
    assert np.abs(ny - out.detach().numpy()).max() < 1e-12 and np.abs(nh - hn.detach().numpy()).max() < 1e-12, "cho2014: torch loop != numpy"
    gout = torch.randn(T, B, D * H, generator=g)
    ghn = torch.randn(L * D, B, H, generator=g)
    (out * gout).sum().add_((hn * ghn).sum()).backward()
    d = {"config": {"input": I, "hidden": H, "layers": L, "bidirectional": bidir, "form": "cho2014"},
         "lengths": lengths, "x": t2j(x), "h0": t2j(h0), "output": t2j(out), "h_n": t2j(hn),
         "grad_output": t2j(gout), "grad_h_n": t2j(ghn), "grad_x": t2j(x.grad), "grad_h0": t2j(h0.grad),
         "weights": {k: t2j(v) for k, v in weights.items()}, "grads": {k: t2j(v.grad) for k, v in weights.items()}}
    write(name, d)


def lstm_cases():
    gru_case("lstm_1layer_uni", I=5, H=4, L=1, bidir=False, lengths=[6, 6, 6], T=6, seed=21, cell="lstm")
    gru_case("lstm_2layer_bi_ragged", I=5, H=4, L=2, bidir=True, lengths=[4, 7, 1, 5], T=7, seed=22, cell="lstm")
    # H = 16: the packed recurrent products.
    gru_case("lstm_2layer_bi_h16_ragged", I=5, H=16, L=2, bidir=True, lengths=[4, 7, 1, 5, 3, 6, 7, 2], T=7, seed=23, with_h0=False, cell="lstm")


def loss_case():
    g = torch.Generator().manual_seed(7)
    logits = torch.randn(6, 4, generator=g, requires_grad=True)
    targets = torch.tensor([0, 3, 1, 1, 2, 3])
    w = torch.tensor([0.5, 2.0, 1.0, 1.5])
    cases = []
    for ls, weighted in ((0.0, False), (0.1, False), (0.0, True), (0.2, True)):
        logits.grad = None
        loss = torch.nn.functional.cross_entropy(logits, targets, weight=w if weighted else None, label_smoothing=ls)
        loss.backward()
        cases.append({"label_smoothing": ls, "weights": w.tolist() if weighted else None,
                      "loss": loss.item(), "grad": t2j(logits.grad)})
    write("cross_entropy", {"logits": t2j(logits), "targets": targets.tolist(), "cases": cases})


def optim_case():
    g = torch.Generator().manual_seed(11)
    p0 = torch.randn(5, generator=g)
    grads = [torch.randn(5, generator=g) for _ in range(4)]
    out = {"p0": t2j(p0), "grads": [t2j(x) for x in grads], "cases": []}
    for name, make in (
        ("sgd", lambda p: torch.optim.SGD([p], lr=0.1)),
        ("sgd_momentum", lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01)),
        ("sgd_nesterov", lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True)),
        ("adam", lambda p: torch.optim.Adam([p], lr=0.01, weight_decay=0.1)),
        ("adamw", lambda p: torch.optim.AdamW([p], lr=0.01, weight_decay=0.1)),
    ):
        p = p0.clone().requires_grad_(True)
        opt = make(p)
        for gr in grads:
            p.grad = gr.clone()
            opt.step()
        out["cases"].append({"name": name, "p": t2j(p)})
    write("optimizers", out)


def check_export(folder):
    """Loads Grus's weights into torch.nn.GRU(strict=True) and compares outputs."""
    with open(os.path.join(folder, "export.json")) as f:
        meta = json.load(f)
    raw = open(os.path.join(folder, "export.safetensors"), "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    state = {}
    for k, v in header.items():
        if k == "__metadata__":
            continue
        assert v["dtype"] == "F32", k
        b, e = v["data_offsets"]
        state[k] = torch.from_numpy(np.frombuffer(raw[8 + n + b:8 + n + e], dtype="<f4").reshape(v["shape"]).copy())
    c = meta["config"]
    gru = torch.nn.GRU(c["input"], c["hidden"], num_layers=c["layers"], bidirectional=c["bidirectional"]).float()
    gru.load_state_dict(state, strict=True)
    x = torch.tensor(meta["x"]["data"], dtype=torch.float32).reshape(meta["x"]["shape"])
    packed = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(meta["lengths"]), enforce_sorted=False)
    with torch.no_grad():
        out_p, hn = gru(packed)
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out_p, total_length=x.shape[0])
    ref = torch.tensor(meta["output"]["data"]).reshape(meta["output"]["shape"])
    refh = torch.tensor(meta["h_n"]["data"]).reshape(meta["h_n"]["shape"])
    err = max((out - ref).abs().max().item(), (hn - refh).abs().max().item())
    print(f"load_state_dict(strict=True): ok; {len(state)} tensors; max |torch - grus| = {err:.2e}")
    assert err < 1e-5, "outputs differ"


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check-export":
        check_export(sys.argv[2])
        sys.exit(0)
    if len(sys.argv) == 2 and sys.argv[1] == "--lstm":
        lstm_cases()
        sys.exit(0)
    gru_case("gru_1layer_uni", I=5, H=4, L=1, bidir=False, lengths=[6, 6, 6], T=6, seed=1)
    gru_case("gru_2layer_bi_ragged", I=5, H=4, L=2, bidir=True, lengths=[4, 7, 1, 5], T=7, seed=2)
    gru_case("gru_batch1", I=3, H=6, L=2, bidir=True, lengths=[9], T=9, seed=3, with_h0=False)
    gru_case("gru_3layer_uni_small_batch", I=4, H=20, L=3, bidir=False, lengths=[19, 11], T=19, seed=5)
    # Hidden sizes that are multiples of 16 take the packed recurrent product (6-row tiles and the
    # one-row path); 8 ragged rows leave a partial tile.
    gru_case("gru_2layer_bi_h16_ragged", I=5, H=16, L=2, bidir=True, lengths=[4, 7, 1, 5, 3, 6, 7, 2], T=7, seed=6)
    gru_case("gru_batch1_h32", I=3, H=32, L=2, bidir=False, lengths=[9], T=9, seed=7)
    cho_case("gru_cho2014_bi_ragged", I=5, H=4, L=2, bidir=True, lengths=[4, 7, 1, 5], T=7, seed=4)
    lstm_cases()
    loss_case()
    optim_case()
