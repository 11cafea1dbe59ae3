"""Reliability: the chaos suite, poison messages and SQLite under pressure."""
