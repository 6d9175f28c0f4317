"""``make run``: Ferry on one machine, in the foreground (``python -m tools.devstack``).

A development tool: it runs from the repository in the project's virtualenv,
uses ``ferry`` and ``ferry_domain``, and is neither deployed nor imported by
them. One job per module:

- ``stack``: what runs, in which order (RabbitMQ, registry, stock feed,
  scheduler, runners, examples), and the signals that stop it;
- ``children``: one supervised child process (start, output pump, stop), tied
  to the supervisor's life;
- ``console``: the name-prefixed output, which outlives a closed stdout;
- ``rabbitmq``: reach RabbitMQ, or start it, or say what to install;
- ``stock_feed``: the static HTTP server the stock-feed example reads;
- ``examples``: the example data, profiles and schedules.
"""
