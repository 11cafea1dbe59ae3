"""Plumbing every service uses: SQLite, the outbox relay, stream consumers, HTTP ops routes.

Kept apart from the schema modules so that a subscriber can import the schema
without pulling in a web framework.
"""
