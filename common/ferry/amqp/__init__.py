"""RabbitMQ: topology (names and declarations), publishing, consuming."""
