"""The operator of the scenarios: runs the ``ferry`` CLI against the test
stack's registry as a person would, and keeps a transcript of what was typed
and what came back.

``FERRY_SCENARIO_TRANSCRIPTS=DIR`` writes each test's transcript to
``DIR/<test name>.txt`` (each run id shown as ``<RUN_1>``, ``<RUN_2>``, ... in
order of appearance, the test's scratch folder as ``$WORK``): the real output
quoted by docs/walkthroughs.md.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.support.processes import ServiceProcess

RUN_ID = re.compile(r"(?<![:0-9a-f])[0-9a-f]{32}(?![0-9a-f])")


@dataclass
class Operator:
    """``ferry`` as typed at a terminal in ``work``, with its transcript."""

    work: Path
    run: Callable[..., subprocess.CompletedProcess[str]]
    registry: ServiceProcess
    transcript: list[str] = field(default_factory=list)
    run_labels: dict[str, str] = field(default_factory=dict)

    def __call__(self, *args: str, expect: int | None = 0) -> subprocess.CompletedProcess[str]:
        result = self.run(*args, registry=self.registry, timeout=90.0)
        self.transcript.append(self.trimmed(
            f"$ ferry {' '.join(quoted(a) for a in args)}\n{result.stdout}{result.stderr}"
            + (f"(exit {result.returncode})\n" if result.returncode else "")))
        if expect is not None:
            assert result.returncode == expect, (args, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def note(self, text: str) -> None:
        """A step of the walkthrough that is not a ``ferry`` command."""
        self.transcript.append(self.trimmed(f"# {text}\n"))

    def trimmed(self, text: str) -> str:
        def label(match: re.Match[str]) -> str:
            return self.run_labels.setdefault(match[0], f"<RUN_{len(self.run_labels) + 1}>")
        return RUN_ID.sub(label, text.replace(str(self.work), "$WORK"))


def quoted(arg: str) -> str:
    return f'"{arg}"' if not arg or any(c in arg for c in " *;|") else arg


@pytest.fixture
def operator(tmp_path: Path, run_cli, registry: ServiceProcess,
             request: pytest.FixtureRequest) -> Iterator[Operator]:
    person = Operator(tmp_path, run_cli, registry)
    yield person
    folder = os.environ.get("FERRY_SCENARIO_TRANSCRIPTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        (Path(folder) / f"{request.node.name}.txt").write_text("\n".join(person.transcript))
