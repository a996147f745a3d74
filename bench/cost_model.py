"""Data-parallel cost model on paper for N machines, from measured figures.

For each shipped model: P parameters (every one is allreduced each step, 4 bytes each) and R,
the sequences per second one machine trains (training.json of a run on this 2-core machine).
A ring allreduce moves 2 (N - 1) / N * 4P bytes in and out of each machine per step and takes
2 (N - 1) latency hops. One step of a global batch B costs B / (N R) seconds of compute per
machine; Grus does not overlap the allreduce with backward, so a step costs compute +
allreduce, and the network stops being the bottleneck once compute >= allreduce, that is once
B >= N R t_allreduce.

    python3 bench/cost_model.py EXP [EXP ...]     # experiment folders with training.json
"""
import json, math, os, sys

BANDWIDTH = 10e9 / 8          # 10 Gb/s in bytes per second
LATENCY = 50e-6               # per hop, TCP on a LAN

def allreduce_seconds(params, n):
    if n == 1:
        return 0.0
    return 2 * (n - 1) / n * 4 * params / BANDWIDTH + 2 * (n - 1) * LATENCY

def main(folders):
    for folder in folders:
        t = json.load(open(os.path.join(folder, "training.json")))
        recipe = open(os.path.join(folder, "recipe.yaml")).read()
        batch = next(int(l.split(":")[1]) for l in recipe.splitlines() if l.strip().startswith("batch_size:"))
        p, r = t["parameters"], t["sequences_per_second"]
        print(f"## {os.path.basename(folder.rstrip('/'))}: {p:,} parameters, {r:.0f} sequences/s on one machine "
              f"({t['threads']} threads), batch {batch}")
        print(f"allreduce per step: {4 * p / 1e6:.2f} MB of gradients; compute per step of {batch}: {1000 * batch / r:.1f} ms on one machine")
        print("| machines N | allreduce per step | compute per step (batch %d) | efficiency | global batch where compute = allreduce | global batch for 90%% efficiency |" % batch)
        print("|---:|---:|---:|---:|---:|---:|")
        for n in (1, 2, 4, 8, 16, 32, 64):
            ta = allreduce_seconds(p, n)
            tc = batch / (n * r)
            eff = tc / (tc + ta)
            bmin = math.ceil(n * r * ta) if n > 1 else 0
            b90 = math.ceil(9 * n * r * ta) if n > 1 else 0
            print(f"| {n} | {1000 * ta:.2f} ms | {1000 * tc:.2f} ms | {100 * eff:.0f}% | {bmin} ({bmin / n:.0f} per machine) | {b90} ({b90 / n:.0f} per machine) |")
        print()

if __name__ == "__main__":
    main(sys.argv[1:])
