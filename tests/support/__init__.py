"""Helpers for tests that start real processes and talk to real services."""
