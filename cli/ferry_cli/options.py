"""``-o/--output``: one option, accepted before the command (``ferry -o json runs
list``) and after it (``ferry runs list -o json``), like kubectl.

The global option sets ``CliContext.output``. ``CommandGroup`` gives every
command added to it the same option with no default; when given after the
command, it replaces the global value, so the value nearest the command
wins (``ferry -o json runs list -o table`` prints a table).
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from ferry_cli.client import CliContext

OUTPUT_FORMATS = ("table", "json")
OUTPUT_HELP = "table for people, json (protobuf JSON) for scripts."


def _set_output(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value is not None:
        ctx.ensure_object(CliContext).output = value
    return value


def output_option(formats: Sequence[str] = OUTPUT_FORMATS, help: str = OUTPUT_HELP,
                  default: str | None = None) -> click.Option:
    """The ``-o/--output`` option. With ``default`` None (a command's own), an
    omitted option leaves the global choice in place."""
    return click.Option(["-o", "--output"], type=click.Choice(list(formats)), default=default,
                        show_default=default is not None, expose_value=False,
                        callback=_set_output, help=help)


def has_output_option(command: click.Command) -> bool:
    return any(param.name == "output" for param in command.params)


class CommandGroup(click.Group):
    """A group whose commands all accept ``-o/--output`` after their name;
    sub-groups pass it on to their own commands."""

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        if not isinstance(cmd, click.Group) and not has_output_option(cmd):
            cmd.params.append(output_option())
        super().add_command(cmd, name)
