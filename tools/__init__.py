"""Development tools run from the repository (``make run``, ``make lint``).

Nothing here is installed or deployed, and no Ferry package imports it.
"""
