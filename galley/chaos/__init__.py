"""The fault-injection suite: crash, restart and partition the pipeline, then count."""
