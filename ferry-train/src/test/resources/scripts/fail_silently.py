"""Fails without writing output/failure: the job's reason comes from its last log lines."""
import sys

print("step 1 ok", flush=True)
print("Traceback (most recent call last):", file=sys.stderr, flush=True)
print("RuntimeError: CUDA out of memory (pretend)", file=sys.stderr, flush=True)
sys.exit(3)
