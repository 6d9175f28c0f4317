"""Ferry plugins for the tests: a folder on the PYTHONPATH of every service a
test starts (``tests.support.processes.base_env``), with the distribution
metadata that makes its ``ferry.connectors`` entry points visible there."""
