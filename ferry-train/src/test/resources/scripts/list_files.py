"""Lists what each channel holds, for sharding and manifest tests."""
import json
import os

result = {}
for channel in json.loads(os.environ["SM_CHANNELS"]):
    root = os.environ["SM_CHANNEL_" + channel.upper()]
    found = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                found[os.path.relpath(path, root)] = f.read().decode("utf-8", "replace")
    result[channel] = found
with open(os.path.join(os.environ["SM_MODEL_DIR"], "files.json"), "w") as f:
    json.dump(result, f, sort_keys=True)
