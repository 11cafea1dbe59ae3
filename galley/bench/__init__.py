"""galley bench: end-to-end throughput and latency of the real services, next to the
transport ceiling and a plain FastStream relay measured in the same run."""
