"""The ops page: the pipeline as a picture with live counts, recent articles and traces."""
