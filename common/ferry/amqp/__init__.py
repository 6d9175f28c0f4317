"""RabbitMQ: topology (every name and declaration), the messages, publishing
with pipelined confirms, consuming, and the transient errors."""
