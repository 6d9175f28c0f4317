"""Ferry's shared package: the generated ferry.v1 contract and the code every
service and the CLI share (configuration, logging, errors, gRPC server and
client shape, schedule math, profile handling, the import/export engine)."""
