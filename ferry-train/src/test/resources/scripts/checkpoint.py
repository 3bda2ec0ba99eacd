"""Resumes from /opt/ml/checkpoints, writes a new checkpoint and waits until Ferry has uploaded it."""
import argparse
import json
import os
import time

parser = argparse.ArgumentParser()
parser.add_argument("--uploaded", required=True, help="where the uploaded checkpoint appears (a local store)")
args = parser.parse_args()

state_file = "/opt/ml/checkpoints/state.json"
runs = 0
if os.path.exists(state_file):
    with open(state_file) as f:
        runs = json.load(f)["runs"]
print("resuming after", runs, "run(s)", flush=True)
with open(state_file + ".tmp", "w") as f:
    json.dump({"runs": runs + 1}, f)
os.replace(state_file + ".tmp", state_file)

seen = False
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    if os.path.exists(args.uploaded):
        with open(args.uploaded) as f:
            seen = json.load(f)["runs"] == runs + 1
        if seen:
            break
    time.sleep(0.02)
with open("/opt/ml/model/model.json", "w") as f:
    json.dump({"resumed_after": runs, "uploaded_while_running": seen}, f)
print("uploaded while running:", seen, flush=True)
