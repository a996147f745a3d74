"""Runs the ONNX models Grus exported (beside this script) in onnxruntime on their ragged
batches and compares every output with Grus's own, on the valid steps of each sequence:
the largest absolute difference must be at most 1e-5. Also runs onnx.checker on each model.
The cases cover every task, both GRU forms (PyTorch, linear_before_reset=1; Cho 2014,
linear_before_reset=0), bidirectional and stacked encoders, global CMVN in the graph, and
frame stacking. ONNXExportTests makes these files (GRUS_WRITE_ONNX_FIXTURES=1).

    pip install onnx onnxruntime numpy && python3 check_onnx.py

End to end on a trained audio classifier (global CMVN, Kaldi fbank): exports it, computes the
features with `grus features`, runs onnxruntime on them as one ragged batch and compares the
probabilities with `grus predict --json` on the same files:

    python3 check_onnx.py --experiment EXP AUDIO...   (GRUS=path/to/grus, default .build/release/grus)
"""
import glob
import json
import os

import numpy as np
import onnx
import onnxruntime as ort

here = os.path.dirname(os.path.abspath(__file__))


def end_to_end(folder, paths):
    import subprocess
    import sys
    import tempfile
    grus = os.environ.get("GRUS", ".build/release/grus")
    spec = json.load(open(os.path.join(folder, "model", "model.json")))
    options = spec["frontEnd"]["audio"]["options"]
    tmp = tempfile.mkdtemp()
    model = os.path.join(tmp, "model.onnx")
    subprocess.run([grus, "export", "--onnx", folder, model], check=True, capture_output=True)
    feats = []
    for i, p in enumerate(paths):   # a folder each: files in different folders may share a name
        d = os.path.join(tmp, str(i))
        subprocess.run([grus, "features", "--bins", str(options["mel"]["numBins"]), "--sample-rate", str(options["frame"]["sampleRate"]),
                        "--output", d, p], check=True, capture_output=True)
        feats.append(np.load(os.path.join(d, os.path.splitext(os.path.basename(p))[0] + ".npy")).astype(np.float32))
    T = max(len(f) for f in feats)
    batch = np.zeros((T, len(feats), feats[0].shape[1]), dtype=np.float32)
    for b, f in enumerate(feats):
        batch[:len(f), b] = f
    lengths = np.array([len(f) for f in feats], dtype=np.int32)
    probs = ort.InferenceSession(model, providers=["CPUExecutionProvider"]).run(None, {"features": batch, "lengths": lengths})[0]
    labels = spec["labels"]
    out = subprocess.run([grus, "predict", "--model", folder, "--json", "--top-k", str(len(labels))] + paths,
                         check=True, capture_output=True, text=True).stdout.splitlines()
    worst = 0.0
    for b, line in enumerate(out):
        theirs = {t["label"]: t["probability"] for t in json.loads(line)["top_k"]}
        worst = max(worst, max(abs(float(probs[b, j]) - theirs[l]) for j, l in enumerate(labels)))
    print(f"{len(paths)} files ({min(lengths)}-{max(lengths)} frames, one ragged batch): max |onnxruntime - grus predict| = {worst:.2e}")
    assert worst <= 1e-5, worst
    sys.exit(0)


if len(__import__("sys").argv) > 2 and __import__("sys").argv[1] == "--experiment":
    end_to_end(__import__("sys").argv[2], __import__("sys").argv[3:])


def array(x, dtype):
    if isinstance(x, dict):
        data = [float("-inf") if v == "-inf" else v for v in x["data"]]
        return np.array(data, dtype=dtype).reshape(x["shape"])
    return np.array(x, dtype=dtype)


worst_all = 0.0
for path in sorted(glob.glob(os.path.join(here, "*.onnx"))):
    name = os.path.basename(path)[:-5]
    case = json.load(open(os.path.join(here, name + ".json")))
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    session = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    feeds = {}
    for i in session.get_inputs():
        dtype = {"tensor(float)": np.float32, "tensor(int64)": np.int64, "tensor(int32)": np.int32}[i.type]
        value = case["inputs"][i.name]
        feeds[i.name] = array(value, dtype)
        if i.name == "tokens":
            feeds[i.name] = feeds[i.name].reshape(-1, len(case["inputs"]["lengths"]))
    got = dict(zip([o.name for o in session.get_outputs()], session.run(None, feeds)))
    lengths = case["inputs"]["lengths"]
    steps = case["outputs"].get("steps", lengths)
    worst = 0.0
    for key, want in case["outputs"].items():
        g = got[key]
        if key == "steps":
            assert list(g) == want, (name, key, list(g), want)
            continue
        w = array(want, np.float32)
        assert g.shape == w.shape, (name, key, g.shape, w.shape)
        if g.ndim == 3:  # per step [T, B, C]: valid steps only
            for b, n in enumerate(steps):
                d = np.abs(g[:n, b] - w[:n, b]).max()
                worst = max(worst, float(d))
        else:
            finite = np.isfinite(w)
            assert (np.isfinite(g) == finite).all() and (g[~finite] == w[~finite]).all(), (name, key, "infinities differ")
            worst = max(worst, float(np.abs(g[finite] - w[finite]).max()))
    print(f"{name:34s} max |onnxruntime - grus| = {worst:.2e}")
    assert worst <= 1e-5, (name, worst)
    worst_all = max(worst_all, worst)
print(f"all cases within 1e-5 (largest {worst_all:.2e}); onnxruntime {ort.__version__}, onnx {onnx.__version__}")
