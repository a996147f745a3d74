#!/usr/bin/env python3
"""The Hugging Face `tokenizers` peer for `grus-bench --only text` (pip install tokenizers):
NFKC + lower-case normaliser, whitespace/punctuation pre-tokenizer, a word-level model and a BPE
model (vocabulary 8000, min frequency 2, "</w>" suffix) trained on SST-2 train.tsv, then
encode_batch over every line with 2 threads.

    RAYON_NUM_THREADS=2 python3 bench/hf_tokenizers.py [--runs 5]
"""
import os
import statistics
import sys
import time

os.environ.setdefault("RAYON_NUM_THREADS", "2")
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, trainers  # noqa: E402

path = "../shared/corpora/sst2/train.tsv"
if not os.path.exists(path):
    sys.exit(f"{path} is absent (SST-2 lives in ../shared/corpora beside the repository)")
runs = int(sys.argv[sys.argv.index("--runs") + 1]) if "--runs" in sys.argv else 5
lines = [l.split("\t")[0] for l in open(path, encoding="utf-8").read().splitlines()[1:]]


def make(model):
    t = Tokenizer(model)
    t.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Lowercase()])
    t.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation()])
    return t


word = make(models.WordLevel(unk_token="<unk>"))
word.train_from_iterator(lines, trainers.WordLevelTrainer(special_tokens=["<pad>", "<unk>"]))
train_times = []
for _ in range(max(1, runs // 2)):
    bpe = make(models.BPE(unk_token="<unk>", end_of_word_suffix="</w>"))
    t0 = time.perf_counter()
    bpe.train_from_iterator(lines, trainers.BpeTrainer(vocab_size=8000, min_frequency=2, special_tokens=["<pad>", "<unk>"],
                                                       end_of_word_suffix="</w>", show_progress=False))
    train_times.append(time.perf_counter() - t0)
for name, tok in (("word", word), ("bpe", bpe)):
    times, n = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        enc = tok.encode_batch(lines)
        times.append(time.perf_counter() - t0)
        n = sum(len(e.ids) for e in enc)
    print(f"tokenizers {name}: {len(lines)} lines, {n} tokens, {n / statistics.median(times):.0f} tokens/s (vocabulary {tok.get_vocab_size()})")
print(f"tokenizers bpe training: {statistics.median(train_times):.2f} s")
