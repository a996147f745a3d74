#!/usr/bin/env python3
"""PyTorch equivalents of Grus's tagging recipes, for accuracy and time side by side.

    python3 bench/torch_tagging.py atis   [--corpus ../shared/corpora/slu/atis]
    python3 bench/torch_tagging.py snips  [--corpus ../shared/corpora/slu/snips]
    python3 bench/torch_tagging.py ud-pos --dev-from EXP/predictions.jsonl   # EXP: a `grus run Recipes/ud-pos.yaml` folder

atis, snips (Recipes/atis.yaml, snips.yaml): tokens NFKC + case folded, vocabulary from train,
embedding 128, bidirectional GRU-128, max pooling over valid steps → dropout 0.5 → linear for the
intent; dropout 0.5 → linear → CRF (pytorch-crf) for the slots; loss 0.5 · intent CE + 0.5 · CRF
NLL; Adam 3e-3 with a cosine schedule over the run, clipping 5, batch 32 bucketed by length, 30
epochs, best dev epoch by sentence accuracy. snips adds the character encoder (characters 32-dim,
bidirectional GRU-64 per token, last states beside the word embedding; tokens over 20 characters
read as their first and last 10) and word dropout 0.1. pytorch-crf has no transition mask, so the
scheme mask of the Grus recipes is not applied.
ud-pos (Recipes/ud-pos.yaml): UPOS from CoNLL-U, no case folding, embedding 100 + the character
encoder, 2-layer bidirectional GRU-128, dropout 0.5, per-step softmax; Adam 3e-3, 15 epochs. Its
dev sentences are the ones Grus carved off (read from that run's predictions.jsonl), the rest
trains. 2 threads.
"""
import argparse
import json
import random
import time
import unicodedata

import torch
from torchcrf import CRF

from common import bucketed_batches

ap = argparse.ArgumentParser()
ap.add_argument("recipe", choices=["atis", "snips", "ud-pos"])
ap.add_argument("--corpus")
ap.add_argument("--dev-from")
ap.add_argument("--epochs", type=int)
a = ap.parse_args()
torch.set_num_threads(2)
torch.manual_seed(1)
random.seed(1)
t0 = time.time()
joint = a.recipe != "ud-pos"
EMB, LAYERS, EPOCHS = (128, 1, 30) if joint else (100, 2, 15)
EPOCHS = a.epochs or EPOCHS
CHARS = a.recipe in ("snips", "ud-pos")          # (32-dim characters, GRU-64)
WORD_DROPOUT = 0.1 if a.recipe == "snips" else 0.0
COSINE = joint


def norm(w, fold):
    w = unicodedata.normalize("NFKC", w)
    return w.casefold() if fold else w


def read_seq_in(folder):
    lines = lambda f: open(f"{folder}/{f}", encoding="utf-8").read().splitlines()
    return [(norm_all(s.split(), True), t.split(), y) for s, t, y in zip(lines("seq.in"), lines("seq.out"), lines("label"))]


def norm_all(ws, fold):
    return [norm(w, fold) for w in ws]


def read_conllu(path):
    out, words, tags, start, sid = [], [], [], None, ""
    for i, line in enumerate(open(path, encoding="utf-8").read().split("\n"), 1):
        if not line.strip():
            if words:
                out.append((words, tags, f"{path}:{start}" + (f" ({sid})" if sid else "")))
            words, tags, start, sid = [], [], None, ""
            continue
        if start is None:
            start = i
        if line.startswith("#"):
            if line.startswith("# sent_id = "):
                sid = line[len("# sent_id = "):].strip()
            continue
        cols = line.split("\t")
        if "-" in cols[0] or "." in cols[0]:
            continue
        words.append(norm(cols[1], False))
        tags.append(cols[3])
    return out


if joint:
    corpus = a.corpus or f"../shared/corpora/slu/{a.recipe}"
    train, dev = read_seq_in(f"{corpus}/train"), read_seq_in(f"{corpus}/valid")
else:
    corpus = a.corpus or "../shared/corpora/ud-ewt/en_ewt-ud-dev.conllu"
    if not a.dev_from:
        raise SystemExit("ud-pos: pass --dev-from EXP/predictions.jsonl (the dev sentences of a Grus run)")
    dev_ids = {json.loads(l)["input"] for l in open(a.dev_from, encoding="utf-8")}
    sents = read_conllu(corpus)
    train = [(w, t, "") for w, t, k in sents if k not in dev_ids]
    dev = [(w, t, "") for w, t, k in sents if k in dev_ids]
    assert len(dev) == len(dev_ids), f"{len(dev)} of {len(dev_ids)} dev sentences found"

vocab = {"<pad>": 0, "<unk>": 1}
for ws, _, _ in train:
    for w in ws:
        vocab.setdefault(w, len(vocab))
tagset = sorted({t for _, ts, _ in train for t in ts}, key=lambda t: (t != "O", t))
tag_ix = {t: i for i, t in enumerate(tagset)}
intents = sorted({y for _, _, y in train})
intent_ix = {y: i for i, y in enumerate(intents)}
known = lambda r: all(t in tag_ix for t in r[1]) and (not joint or r[2] in intent_ix)
dev = [r for r in dev if known(r)]
chars = {"<pad>": 0, "<unk>": 1}
for ws, _, _ in train:
    for w in ws:
        for ch in w:
            chars.setdefault(ch, len(chars))
cut = lambda w: w if len(w) <= 20 else w[:10] + w[-10:]
enc = lambda r: ([vocab.get(w, 1) for w in r[0]], [tag_ix[t] for t in r[1]], intent_ix.get(r[2], 0),
                 [tuple(chars.get(ch, 1) for ch in cut(w)) for w in r[0]])
train, dev = [enc(r) for r in train], [enc(r) for r in dev]
print(f"{a.recipe}: train {len(train)}, dev {len(dev)}, vocabulary {len(vocab)}, tags {len(tagset)}, intents {len(intents)}")


class CharEncoder(torch.nn.Module):
    """Each distinct token of the batch once: characters → BiGRU-64 → [last forward, last backward]."""
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(len(chars), 32, padding_idx=0)
        self.gru = torch.nn.GRU(32, 64, bidirectional=True)

    def forward(self, words, T, B):
        distinct = {}
        slots = [[distinct.setdefault(w, len(distinct)) for w in ws] for ws in words]
        seqs = list(distinct)
        lengths = torch.tensor([len(w) for w in seqs])
        ids = torch.nn.utils.rnn.pad_sequence([torch.tensor(w) for w in seqs])
        _, h = self.gru(torch.nn.utils.rnn.pack_padded_sequence(self.emb(ids), lengths, enforce_sorted=False))
        vec = torch.cat([h[0], h[1]], dim=1)                      # [W, 128]
        index = torch.zeros(T, B, dtype=torch.long)
        valid = torch.zeros(T, B, 1)
        for b, s in enumerate(slots):
            index[:len(s), b] = torch.tensor(s)
            valid[:len(s), b] = 1
        return vec[index] * valid                                 # [T, B, 128], zeros at padding


class Model(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = torch.nn.Embedding(len(vocab), EMB, padding_idx=0)
        self.chars = CharEncoder() if CHARS else None
        self.gru = torch.nn.GRU(EMB + (128 if CHARS else 0), 128, num_layers=LAYERS, bidirectional=True)
        self.drop = torch.nn.Dropout(0.3)
        self.head = torch.nn.Linear(256, len(tagset))
        if joint:
            self.intent = torch.nn.Linear(256, len(intents))
            self.crf = CRF(len(tagset))

    def forward(self, ids, lengths, words):
        x = self.emb(ids)
        if self.chars is not None:
            x = torch.cat([x, self.chars(words, ids.shape[0], ids.shape[1])], dim=2)
        packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, enforce_sorted=False)
        out, _ = self.gru(packed)
        out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, total_length=ids.shape[0])
        emissions = self.head(self.drop(out))
        if not joint:
            return emissions, None
        mask = (torch.arange(ids.shape[0])[:, None] < lengths[None, :])
        pooled = out.masked_fill(~mask[:, :, None], -1e9).max(0).values
        return emissions, self.intent(self.drop(pooled))


def batch(rows):
    lengths = torch.tensor([len(r[0]) for r in rows])
    ids = torch.nn.utils.rnn.pad_sequence([torch.tensor(r[0]) for r in rows])
    tags = torch.nn.utils.rnn.pad_sequence([torch.tensor(r[1]) for r in rows])
    mask = torch.arange(ids.shape[0])[:, None] < lengths[None, :]
    return ids, lengths, tags, mask, torch.tensor([r[2] for r in rows]), [r[3] for r in rows]


def batches(data, size):
    return bucketed_batches(data, size)


model = Model()
opt = torch.optim.Adam(model.parameters(), lr=3e-3)
steps_per_epoch = len(batches(train, 32))
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=EPOCHS * steps_per_epoch) if COSINE else None
best = None
for epoch in range(EPOCHS):
    model.train()
    for b in batches(train, 32):
        ids, l, tags, mask, y, words = batch([train[i] for i in b])
        if WORD_DROPOUT > 0:
            ids = torch.where(mask & (torch.rand(ids.shape) < WORD_DROPOUT), torch.ones_like(ids), ids)
        emissions, intent = model(ids, l, words)
        if joint:
            loss = 0.5 * torch.nn.functional.cross_entropy(intent, y) - 0.5 * model.crf(emissions, tags, mask=mask, reduction="mean")
        else:
            loss = torch.nn.functional.cross_entropy(emissions[mask], tags[mask])
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        if sched:
            sched.step()
    model.eval()
    right_tok = n_tok = right_int = right_sent = 0
    gold_spans = pred_spans = hit = 0
    with torch.no_grad():
        for s in range(0, len(dev), 256):
            rows = dev[s:s + 256]
            ids, l, tags, mask, y, words = batch(rows)
            emissions, intent = model(ids, l, words)
            paths = model.crf.decode(emissions, mask=mask) if joint else emissions.argmax(-1).T.tolist()
            for j, r in enumerate(rows):
                p, g = paths[j][:len(r[1])], r[1]
                right_tok += sum(int(u == v) for u, v in zip(p, g))
                n_tok += len(g)
                ok_int = not joint or int(intent[j].argmax()) == r[2]
                right_int += int(ok_int)
                right_sent += int(ok_int and p == g)
                if joint:
                    def spans(seq):
                        out, cur = set(), None
                        for i, t in enumerate([tagset[k] for k in seq] + ["O"]):
                            pre, typ = (t.split("-", 1) + [""])[:2] if t != "O" else ("O", "")
                            if cur and (pre in ("B", "O") or typ != cur[0]):
                                out.add((cur[0], cur[1], i - 1)); cur = None
                            if pre == "B" or (pre == "I" and cur is None):
                                cur = (typ, i)
                        return out
                    gs, ps = spans(g), spans(p)
                    gold_spans += len(gs); pred_spans += len(ps); hit += len(gs & ps)
    tok = right_tok / n_tok
    if joint:
        prec, rec = hit / max(pred_spans, 1), hit / max(gold_spans, 1)
        f1 = 2 * prec * rec / max(prec + rec, 1e-12)
        score = (right_sent / len(dev), right_int / len(dev), f1)
        msg = f"intent {score[1]:.4f} slot F1 {f1:.4f} sentence {score[0]:.4f}"
    else:
        score = (tok,)
        msg = f"token accuracy {tok:.4f}"
    if best is None or score[0] > best[0][0]:
        best = (score, msg)
    print(f"epoch {epoch + 1}: dev {msg} [{time.time() - t0:.1f} s]", flush=True)
print(f"best dev epoch: {best[1]}; total {time.time() - t0:.1f} s")
