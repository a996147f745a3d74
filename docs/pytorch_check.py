"""Tests docs/pytorch.md: runs its Python blocks in order, labels the given audio files with the
PyTorch model they build from an experiment folder, and compares the probabilities with
`grus predict --json` on the same files. The largest difference must be at most 1e-4.

    python3 docs/pytorch_check.py EXPERIMENT AUDIO...   (GRUS=path/to/grus, default .build/release/grus)
"""
import json
import os
import re
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
folder, paths = sys.argv[1], sys.argv[2:]
assert paths, "give audio files"

guide = open(os.path.join(here, "pytorch.md")).read()
blocks = re.findall(r"```python\n(.*?)```", guide, re.S)
scope = {}
for b in blocks:
    exec(compile(b, "docs/pytorch.md", "exec"), scope)

labels, probs = scope["predict"](folder, paths)
grus = os.environ.get("GRUS", os.path.join(here, "..", ".build", "release", "grus"))
options = json.load(open(os.path.join(folder, "model", "model.json")))["frontEnd"].get("audio", {}).get("options", {})
one_speaker = ["--one-speaker"] if options.get("cmvn") == "speaker" else []   # the files are one speaker's
run = subprocess.run([grus, "predict", "--model", folder, "--json", "--top-k", str(len(labels))] + one_speaker + paths,
                     capture_output=True, text=True, check=True)
worst = 0.0
for i, line in enumerate(run.stdout.splitlines()):
    record = json.loads(line)
    theirs = {t["label"]: t["probability"] for t in record["top_k"]}
    for j, label in enumerate(labels):
        worst = max(worst, abs(float(probs[i, j]) - theirs[label]))
print(f"{len(paths)} files, {len(labels)} labels: max |PyTorch - grus predict| = {worst:.2e} ({len(blocks)} blocks of docs/pytorch.md run)")
assert worst <= 1e-4, worst
