"""A script-mode training script: data from SM_CHANNEL_TRAIN, hyperparameters as arguments, model to SM_MODEL_DIR."""
import argparse
import json
import os

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=1)
parser.add_argument("--lr", type=float, default=0.1)
parser.add_argument("--name", type=str, default="")
parser.add_argument("--batch-size", type=int, default=1)
args = parser.parse_args()

train = os.environ["SM_CHANNEL_TRAIN"]
files = {}
for folder, _, names in os.walk(train, followlinks=True):
    for name in names:
        path = os.path.join(folder, name)
        with open(path, "rb") as f:
            files[os.path.relpath(path, train)] = f.read().decode("utf-8", "replace")

for epoch in range(args.epochs):
    print(f"epoch {epoch + 1}/{args.epochs}: {len(files)} files, lr {args.lr}", flush=True)

env = {k: v for k, v in os.environ.items() if k.startswith("SM_") or k == "TRAINING_JOB_NAME" or k == "FROM_REQUEST"}
model = {"epochs": args.epochs, "lr": args.lr, "name": args.name, "files": files, "env": env, "cwd": os.getcwd()}
os.makedirs(os.environ["SM_MODEL_DIR"], exist_ok=True)
with open(os.path.join(os.environ["SM_MODEL_DIR"], "model.json"), "w") as f:
    json.dump(model, f, indent=1, sort_keys=True)
os.makedirs(os.path.join(os.environ["SM_MODEL_DIR"], "sub"), exist_ok=True)
with open(os.path.join(os.environ["SM_MODEL_DIR"], "sub", "weights.bin"), "wb") as f:
    f.write(bytes(range(256)) * 4)
with open(os.path.join(os.environ["SM_OUTPUT_DATA_DIR"], "metrics.json"), "w") as f:
    json.dump({"accuracy": 0.5}, f)
print("saved model", flush=True)
