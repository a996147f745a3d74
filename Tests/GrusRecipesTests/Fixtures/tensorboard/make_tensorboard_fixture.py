"""Writes events.out.tfevents.fixture with TensorBoard's own writer: the events Grus makes from
train-log.csv (beside this script), with the run starting at wall time 1.7e9. Then reads the
file back with TensorBoard's event reader and checks every scalar against the log.
Grus's test (TensorBoardTests) requires its own file to equal this one byte for byte.

    pip install tensorboard && python3 make_tensorboard_fixture.py
"""
import csv
import math
import os

from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
from tensorboard.compat.proto.event_pb2 import Event
from tensorboard.compat.proto.summary_pb2 import Summary
from tensorboard.summary.writer.record_writer import RecordWriter

here = os.path.dirname(os.path.abspath(__file__))
START = 1.7e9
rows = list(csv.DictReader(open(os.path.join(here, "train-log.csv"))))
header = list(rows[0].keys())


def tag(name):
    return "dev/" + name[4:] if name.startswith("dev_") else "train/" + name


events = [Event(wall_time=START, file_version="brain.Event:2")]
for r in rows:
    values = [Summary.Value(tag=tag(k), simple_value=float(r[k])) for k in header
              if k not in ("epoch", "step", "seconds") and r[k] != "" and math.isfinite(float(r[k]))]
    events.append(Event(wall_time=START + float(r["seconds"]), step=int(r["step"]), summary=Summary(value=values)))

out_dir = os.path.join(here, "run")
os.makedirs(out_dir, exist_ok=True)
path = os.path.join(out_dir, "events.out.tfevents.fixture")
with open(path, "wb") as f:
    w = RecordWriter(f)
    for e in events:
        w.write(e.SerializeToString())

acc = EventAccumulator(out_dir)
acc.Reload()
for k in header:
    if k in ("epoch", "step", "seconds"):
        continue
    got = [(s.step, s.value) for s in acc.Scalars(tag(k))]
    want = [(int(r["step"]), float(r[k])) for r in rows]
    assert len(got) == len(want), (k, got, want)
    for (gs, gv), (ws, wv) in zip(got, want):
        assert gs == ws and abs(gv - wv) <= 1e-6 * max(1, abs(wv)), (k, gs, gv, ws, wv)
print("wrote", path, "and read back", len(rows), "epochs of", len(header) - 3, "scalars")
