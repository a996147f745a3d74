#!/usr/bin/env python3
"""Fixtures for Grus's span metrics, made by seqeval (default mode, which follows the CoNLL
conlleval script, ill-formed sequences included: an I-X with no B-X before it starts a chunk).

    pip install seqeval
    python3 Tests/GrusRecipesTests/Fixtures/make_span_fixtures.py > Tests/GrusRecipesTests/Fixtures/spans.json

Random gold and predicted tag sequences over IOB1, IOB2 and IOBES tag sets, with ill-formed
transitions on purpose; for each case the chunks seqeval finds, and the per-type and micro
precision, recall and F1.
"""
import json
import random

from seqeval.metrics.sequence_labeling import get_entities, precision_recall_fscore_support

random.seed(7)
TYPES = ["PER", "LOC", "ORG", "B", "I-X"]


def random_tags(n, scheme):
    prefixes = {"iob2": ["B", "I"], "iob1": ["I", "B"], "iobes": ["B", "I", "E", "S"]}[scheme]
    out = []
    for _ in range(n):
        if random.random() < 0.35:
            out.append("O")
        else:
            out.append(random.choice(prefixes) + "-" + random.choice(TYPES[:3] if random.random() < 0.9 else TYPES))
    return out


cases = []
for k in range(60):
    scheme = ["iob2", "iob1", "iobes"][k % 3]
    sentences = random.randint(1, 4)
    gold, pred = [], []
    for _ in range(sentences):
        n = random.randint(0 if k % 17 == 0 else 1, 12)
        g = random_tags(n, scheme)
        p = [t if random.random() < 0.6 else random.choice(random_tags(1, scheme)) for t in g]
        gold.append(g)
        pred.append(p)
    per_type = {}
    types = sorted({e[0] for s in gold + pred for e in get_entities(s)})
    if types:
        pr, rc, f1, sup = precision_recall_fscore_support(gold, pred, average=None, suffix=False)
        for t, a, b, c, d in zip(types, pr, rc, f1, sup):
            per_type[t] = {"precision": float(a), "recall": float(b), "f1": float(c), "support": int(d)}
        mp, mr, mf, _ = precision_recall_fscore_support(gold, pred, average="micro", suffix=False)
    else:
        mp = mr = mf = 0.0
    cases.append({
        "gold": gold, "pred": pred,
        # chunks per sentence: [type, first, last] (token indexes within the sentence)
        "gold_chunks": [[list(e) for e in get_entities(s)] for s in gold],
        "pred_chunks": [[list(e) for e in get_entities(s)] for s in pred],
        "per_type": per_type, "precision": float(mp), "recall": float(mr), "f1": float(mf),
    })
print(json.dumps({"made_by": "seqeval (default mode)", "cases": cases}, indent=0))
