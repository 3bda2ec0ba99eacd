"""Reads a FileSystem channel and tries to write into it."""
import json
import os

train = os.environ["SM_CHANNEL_TRAIN"]
files = sorted(os.listdir(train))
try:
    with open(os.path.join(train, "written-by-job.txt"), "w") as f:
        f.write("hello")
    result = "written"
except OSError as e:
    result = "refused: " + os.strerror(e.errno)
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"), "w") as f:
    json.dump({"files": files, "write": result, "channel": train, "is_link": os.path.islink(train)}, f)
print("write:", result, flush=True)
