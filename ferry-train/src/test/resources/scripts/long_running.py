"""Runs until stopped. --on-term save: saves a model on SIGTERM and exits 0; --on-term ignore: ignores SIGTERM."""
import argparse
import os
import signal
import sys
import time

parser = argparse.ArgumentParser()
parser.add_argument("--on-term", default="save")
args = parser.parse_args()


def save_and_exit(signum, frame):
    with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.txt"), "w") as f:
        f.write("saved on SIGTERM\n")
    print("got SIGTERM, saved the model", flush=True)
    sys.exit(0)


if args.on_term == "save":
    signal.signal(signal.SIGTERM, save_and_exit)
else:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
print("READY", flush=True)
deadline = time.monotonic() + 120  # bounded: never outlives a broken test by long
while time.monotonic() < deadline:
    time.sleep(0.05)
print("not stopped in time", flush=True)
sys.exit(9)
