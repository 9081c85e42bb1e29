"""Metrics over a whole split, from the counts a task's steps add up (numbers summed, lists concatenated):
correlations (regression), error rates (ASR), equal error rate and minDCF (speaker verification)."""
