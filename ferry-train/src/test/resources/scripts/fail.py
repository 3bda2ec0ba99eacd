"""Fails the way SageMaker scripts are told to: the reason in /opt/ml/output/failure, then a non-zero exit."""
import os
import sys

print("loading data", flush=True)
with open(os.path.join(os.environ["SM_OUTPUT_DIR"], "failure"), "w") as f:
    f.write("ValueError: learning rate must be positive, was -1\n")
sys.exit(2)
