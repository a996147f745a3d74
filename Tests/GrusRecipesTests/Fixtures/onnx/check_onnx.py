"""Runs the ONNX models Grus exported (beside this script) in onnxruntime on their ragged
batches and compares every output with Grus's own, on the valid steps of each sequence:
the largest absolute difference must be at most 1e-5. Also runs onnx.checker on each model.
The cases cover every task, both GRU forms (PyTorch, linear_before_reset=1; Cho 2014,
linear_before_reset=0), bidirectional and stacked encoders, global CMVN in the graph, and
frame stacking. ONNXExportTests makes these files (GRUS_WRITE_ONNX_FIXTURES=1).

    pip install onnx onnxruntime numpy && python3 check_onnx.py
"""
import glob
import json
import os

import numpy as np
import onnx
import onnxruntime as ort

here = os.path.dirname(os.path.abspath(__file__))


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
