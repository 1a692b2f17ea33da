"""Training: the generic loop, checkpoints and small utilities shared by every task."""
