"""Fake platform servers on loopback, for adapter tests."""
