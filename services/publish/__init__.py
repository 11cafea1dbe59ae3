"""Publish: the reader-facing site, feeds and API, and the articles.published stream."""
