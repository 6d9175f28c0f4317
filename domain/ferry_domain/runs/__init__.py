"""Runs: the state machine and the rules that follow a run's outcome."""
