"""Vocabulary tests use the session-wide `ontologies` fixture of tests/conftest.py."""
