"""Trains a small CNN on CIFAR-10-like images, SageMaker script-mode style (CPU).

Runs unchanged on SageMaker (PyTorch framework container) and under `ferry train`:
hyperparameters arrive as --name value arguments, data in SM_CHANNEL_TRAIN as <class>/<image>.png
folders, the model goes to SM_MODEL_DIR (packed to model.tar.gz), metrics to SM_OUTPUT_DATA_DIR,
checkpoints to /opt/ml/checkpoints (synced with CheckpointConfig.S3Uri), and a failure's reason to
/opt/ml/output/failure.
"""
import argparse
import json
import os
import sys
import time
import traceback

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

CHECKPOINT_DIR = "/opt/ml/checkpoints"


class Net(nn.Module):
    """Two convolutions and two dense layers: enough to learn 32x32 images, small enough for a CPU."""

    def __init__(self, classes):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1)
        self.conv2 = nn.Conv2d(16, 32, 3, padding=1)
        self.fc1 = nn.Linear(32 * 8 * 8, 64)
        self.fc2 = nn.Linear(64, classes)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--model-dir", default=os.environ.get("SM_MODEL_DIR", "/opt/ml/model"))
    parser.add_argument("--train", default=os.environ.get("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train"))
    parser.add_argument("--output-data-dir", default=os.environ.get("SM_OUTPUT_DATA_DIR", "/opt/ml/output/data"))
    parser.add_argument("--num-cpus", type=int, default=int(os.environ.get("SM_NUM_CPUS", "1")))
    return parser.parse_args()


def main():
    args = parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(max(1, args.num_cpus))
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])
    dataset = datasets.ImageFolder(args.train, transform=transform)
    loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True, num_workers=0)
    print(f"training on {len(dataset)} images of {len(dataset.classes)} classes from {args.train}", flush=True)

    model = Net(len(dataset.classes))
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    first_epoch = 1
    checkpoint_file = os.path.join(CHECKPOINT_DIR, "checkpoint.pth")
    if os.path.exists(checkpoint_file):
        state = torch.load(checkpoint_file)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        first_epoch = state["epoch"] + 1
        print(f"resuming from the checkpoint of epoch {state['epoch']}", flush=True)

    metrics = {}
    for epoch in range(first_epoch, args.epochs + 1):
        start = time.time()
        model.train()
        total, correct, loss_sum = 0, 0, 0.0
        for images, labels in loader:
            optimizer.zero_grad()
            outputs = model(images)
            loss = F.cross_entropy(outputs, labels)
            loss.backward()
            optimizer.step()
            loss_sum += loss.item() * labels.size(0)
            correct += (outputs.argmax(1) == labels).sum().item()
            total += labels.size(0)
        metrics = {"epoch": epoch, "loss": loss_sum / total, "accuracy": correct / total}
        print(f"epoch {epoch}/{args.epochs}: loss {metrics['loss']:.4f}, accuracy {metrics['accuracy']:.3f}"
              f" ({time.time() - start:.1f} s)", flush=True)
        if os.path.isdir(CHECKPOINT_DIR) and os.access(CHECKPOINT_DIR, os.W_OK):
            torch.save({"epoch": epoch, "model": model.state_dict(), "optimizer": optimizer.state_dict()},
                       checkpoint_file + ".tmp")
            os.replace(checkpoint_file + ".tmp", checkpoint_file)

    os.makedirs(args.model_dir, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(args.model_dir, "model.pth"))
    with open(os.path.join(args.model_dir, "classes.json"), "w") as f:
        json.dump(dataset.classes, f)
    os.makedirs(args.output_data_dir, exist_ok=True)
    with open(os.path.join(args.output_data_dir, "metrics.json"), "w") as f:
        json.dump(metrics, f)
    print(f"saved the model to {args.model_dir}", flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception:
        reason = traceback.format_exc()
        print(reason, file=sys.stderr, flush=True)
        output = os.environ.get("SM_OUTPUT_DIR", "/opt/ml/output")
        if os.path.isdir(output):
            with open(os.path.join(output, "failure"), "w") as f:
                f.write(reason.strip().splitlines()[-1])
        sys.exit(1)
