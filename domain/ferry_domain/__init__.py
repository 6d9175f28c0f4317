"""Ferry's domain: what an import or export does and the rules around it.

- ``engine``: sources, formats, mapping, targets; one run of a profile.
- ``freshness``: has the source changed since the last live run?
- ``retention``, ``masking``: what happens to source files and samples.
- ``profiles``: the profile YAML codec and its validation.
- ``schedules``: trigger math (cron, daily, weekly, interval; time zones).

It builds on the shared plumbing in ``ferry`` (config, logs, retry, gRPC and
AMQP, the clock, the generated ``ferry.v1`` stubs) and never imports a service.
"""
