"""Data-parallel cost model on paper for N machines, from measured figures.

For each shipped model: P parameters (every one is allreduced each step, 4 bytes each) and R,
the sequences per second one machine trains (training.json of a run on this 2-core machine).
A ring allreduce moves 2 (N - 1) / N * 4P bytes in and out of each machine per step and takes
2 (N - 1) latency hops. One step of a global batch B costs B / (N R) seconds of compute per
machine; Grus does not overlap the allreduce with backward, so a step costs compute +
allreduce, and the network stops being the bottleneck once compute >= allreduce, that is once
B >= N R t_allreduce.

A text model's embedding is row-sparse: Grus sends which rows each rank touched, then only the
union of those rows. With --sentences FILE (one text per line, a TSV's first column) the number
of distinct words in a global batch is estimated by sampling batches from it.

    python3 bench/cost_model.py EXP [EXP ...] [--sentences FILE]   # experiment folders with training.json
"""
import json, math, os, random, struct, sys

BANDWIDTH = 10e9 / 8          # 10 Gb/s in bytes per second
LATENCY = 50e-6               # per hop, TCP on a LAN

def allreduce_seconds(params, n):
    """Ring allreduce of `params` floats on n machines."""
    if n == 1:
        return 0.0
    return 2 * (n - 1) / n * 4 * params / BANDWIDTH + 2 * (n - 1) * LATENCY

def embedding_shape(folder):
    raw = open(os.path.join(folder, "model", "model.safetensors"), "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    return header["embedding.weight"]["shape"] if "embedding.weight" in header else None

def distinct_words(sentences, batch, draws=200):
    rng = random.Random(1)
    return sum(len({w for s in rng.sample(sentences, batch) for w in s}) for _ in range(draws)) / draws

def main(folders, sentences):
    for folder in folders:
        t = json.load(open(os.path.join(folder, "training.json")))
        recipe = open(os.path.join(folder, "recipe.yaml")).read()
        batch = next(int(l.split(":")[1]) for l in recipe.splitlines() if l.strip().startswith("batch_size:"))
        p, r = t["parameters"], t["sequences_per_second"]
        emb = embedding_shape(folder)
        if emb and sentences:
            # The union of rows a global batch touches, plus a float per row for the first round.
            dense = p - emb[0] * emb[1]
            sent = lambda b, n: dense + emb[0] + min(emb[0], distinct_words(sentences, min(b, len(sentences)))) * emb[1]
            print(f"(embedding {emb[0]} x {emb[1]}: a batch of {batch} touches {distinct_words(sentences, batch):.0f} rows)")
        else:
            sent = lambda b, n: p
        print(f"## {os.path.basename(folder.rstrip('/'))}: {p:,} parameters, {r:.0f} sequences/s on one machine "
              f"({t['threads']} threads), batch {batch}")
        print(f"allreduce per step of {batch}: {4 * sent(batch, 2) / 1e6:.2f} MB; compute per step of {batch}: {1000 * batch / r:.1f} ms on one machine")
        print("| machines N | allreduce per step | compute per step (batch %d) | efficiency | global batch where compute = allreduce | global batch for 90%% efficiency |" % batch)
        print("|---:|---:|---:|---:|---:|---:|")
        def smallest(n, factor):
            # The least global batch B with compute B / (n r) >= factor * allreduce(B).
            b = 1
            while b < 10**6 and b / (n * r) < factor * allreduce_seconds(sent(b, n), n):
                b = math.ceil(b * 1.1) if b > 10 else b + 1
            return b
        for n in (1, 2, 4, 8, 16, 32, 64):
            ta = allreduce_seconds(sent(batch, n), n)
            tc = batch / (n * r)
            eff = tc / (tc + ta)
            bmin = smallest(n, 1) if n > 1 else 0
            b90 = smallest(n, 9) if n > 1 else 0
            print(f"| {n} | {1000 * ta:.2f} ms | {1000 * tc:.2f} ms | {100 * eff:.0f}% | {bmin} ({bmin / n:.0f} per machine) | {b90} ({b90 / n:.0f} per machine) |")
        print()

if __name__ == "__main__":
    args = sys.argv[1:]
    sentences = None
    if "--sentences" in args:
        k = args.index("--sentences")
        lines = open(args[k + 1], encoding="utf-8").read().splitlines()[1:]
        sentences = [l.split("\t")[0].lower().split() for l in lines if l.strip()]
        del args[k:k + 2]
    main(args, sentences)
