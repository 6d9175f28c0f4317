"""The ``ferry`` operator CLI: a gRPC client of the registry."""
