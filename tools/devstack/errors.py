"""The one error the dev stack reports to its user."""


class DevStackError(Exception):
    """The dev stack cannot start; the message says what to do."""
