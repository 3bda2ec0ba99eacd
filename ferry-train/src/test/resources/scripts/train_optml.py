"""A script that hard-codes SageMaker's paths instead of reading SM_* variables."""
import json
import os

with open("/opt/ml/input/config/hyperparameters.json") as f:
    hps = json.load(f)
with open("/opt/ml/input/config/resourceconfig.json") as f:
    resources = json.load(f)
with open("/opt/ml/input/config/inputdataconfig.json") as f:
    channels = json.load(f)
files = sorted(os.listdir("/opt/ml/input/data/train"))
with open("/opt/ml/model/model.json", "w") as f:
    json.dump({"hps": hps, "resources": resources, "channels": channels, "files": files}, f)
print("trained on", len(files), "files with", hps, flush=True)
