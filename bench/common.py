"""Helpers the PyTorch side of the benchmarks shares: timing and length-bucketed batches."""
import random
import statistics
import time


def median_seconds(fn, runs, inner, warmup):
    """Median seconds per call of fn over `runs` timed runs of `inner` calls, after `warmup` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - t0) / inner)
    return statistics.median(times)


def bucketed_batches(data, size, length=lambda row: len(row[0])):
    """Shuffled batches of similar lengths, as Grus's `training.bucket`: shuffle, sort windows of
    50 batches by length, cut, shuffle the batches. Uses the `random` module's state."""
    order = list(range(len(data)))
    random.shuffle(order)
    window = size * 50
    chunks = [sorted(order[i:i + window], key=lambda j: -length(data[j])) for i in range(0, len(order), window)]
    flat = [j for c in chunks for j in c]
    out = [flat[i:i + size] for i in range(0, len(flat), size)]
    random.shuffle(out)
    return out
