"""Entry point of the ``ferry`` console script.

Every failure ends as one ``error: ...`` line on stderr and exit status 1
(usage errors: click's status 2); never a traceback.
"""

from __future__ import annotations

import sys

import click
import grpc
from ferry.config import ConfigError
from ferry.errors import FerryError

from ferry_cli.app import cli
from ferry_cli.errors import describe_error


def main(argv: list[str] | None = None) -> None:
    try:
        cli.main(args=argv, prog_name="ferry", standalone_mode=True)
    except (grpc.RpcError, FerryError, ConfigError, OSError) as exc:
        click.echo(describe_error(exc), err=True)
        sys.exit(1)
    except Exception as exc:  # noqa: BLE001 - the CLI's outermost boundary
        click.echo(f"error: internal: {type(exc).__name__}: {exc}", err=True)
        sys.exit(1)


if __name__ == "__main__":
    main()
