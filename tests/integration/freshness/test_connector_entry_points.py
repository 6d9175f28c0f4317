"""CONNECTOR_TOKEN through a real ``ferry.connectors`` entry point: a fake
distribution is put on sys.path and discovered by importlib.metadata."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from ferry.v1 import profile_pb2 as pb
from ferry_domain.freshness import Verdict, probe
from ferry_domain.freshness.tokens import decode

PLUGIN = '''
import json
from pathlib import Path


class Shop:
    """A connector whose change token is the revision in a state file."""

    def change_token(self, source):
        state = json.loads(Path(source.location).read_text())
        return f"rev-{state['revision']}"


shop = Shop()
'''


@pytest.fixture
def fake_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    site = tmp_path / "site"
    module = "ferry_fake_shop_connector"
    (site / "ferry_fake_shop-1.0.dist-info").mkdir(parents=True)
    (site / f"{module}.py").write_text(PLUGIN)
    (site / "ferry_fake_shop-1.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: ferry-fake-shop\nVersion: 1.0\n")
    (site / "ferry_fake_shop-1.0.dist-info" / "entry_points.txt").write_text(
        f"[ferry.connectors]\nfake-shop = {module}:shop\n")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    yield "fake-shop"
    sys.modules.pop(module, None)


def test_connector_change_token_from_an_installed_entry_point(
    fake_distribution: str, tmp_path: Path
) -> None:
    state = tmp_path / "shop-state.json"
    state.write_text('{"revision": 41}')
    profile = pb.Profile(
        name="shop-products", operation=pb.OPERATION_IMPORT,
        source=pb.Source(kind=pb.SOURCE_KIND_CONNECTOR, connector=fake_distribution,
                         location=str(state)),
        freshness=[pb.FRESHNESS_METHOD_CONNECTOR_TOKEN],
    )
    first = probe(profile)
    assert decode(first.current_token)["connector_token"] == "rev-41"
    assert probe(profile, previous_token=first.current_token).verdict is Verdict.UNCHANGED
    state.write_text('{"revision": 42}')
    changed = probe(profile, previous_token=first.current_token)
    assert changed.verdict is Verdict.CHANGED
    assert decode(changed.to_proto().current_token)["connector_token"] == "rev-42"
