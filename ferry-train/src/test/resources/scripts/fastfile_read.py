"""Reads every file of channel 'train' as a training loop would (os.walk, open, read), then each again with a seek
and a partial read, and writes their SHA-256s with what it was told about the channel, for FastFile tests.
--fail yes: exits 1 after reading, as a failing script."""
import argparse
import errno
import hashlib
import json
import os
import sys

parser = argparse.ArgumentParser()
parser.add_argument("--fail", default="no")
args = parser.parse_args()

channel = os.environ["SM_CHANNEL_TRAIN"]
summary = {"files": {}, "slices": {}}
for folder, _, names in os.walk(channel):
    for name in names:
        path = os.path.join(folder, name)
        key = os.path.relpath(path, channel)
        with open(path, "rb") as f:
            data = f.read()
        summary["files"][key] = {"sha256": hashlib.sha256(data).hexdigest(), "size": os.path.getsize(path)}
        if data:
            offset = len(data) // 3
            with open(path, "rb") as f:
                f.seek(offset)
                part = f.read(1500000)
            summary["slices"][key] = {"offset": offset, "length": len(part),
                                      "sha256": hashlib.sha256(part).hexdigest()}

try:
    with open(os.path.join(channel, "written-by-the-script.txt"), "w") as f:
        f.write("a FastFile channel is read-only")
    summary["write_errno"] = 0
except OSError as e:
    summary["write_errno"] = e.errno
summary["erofs"] = errno.EROFS
summary["is_mount"] = os.path.ismount(channel)
with open(os.path.join(os.environ["SM_INPUT_CONFIG_DIR"], "inputdataconfig.json")) as f:
    summary["inputdataconfig"] = json.load(f)
summary["sm_input_data_config"] = json.loads(os.environ["SM_INPUT_DATA_CONFIG"])
with open(os.path.join(os.environ["SM_MODEL_DIR"], "summary.json"), "w") as f:
    json.dump(summary, f, sort_keys=True)
print("read %d files" % len(summary["files"]), flush=True)
if args.fail == "yes":
    with open(os.path.join(os.environ["SM_OUTPUT_DIR"], "failure"), "w") as f:
        f.write("RuntimeError: failing on purpose after reading the channel\n")
    sys.exit(1)
