"""Reading a profile from YAML (the shape of examples/samples/*.yaml):
field names as in profile.proto, enum values by name, durations as "30s"."""

from __future__ import annotations

from pathlib import Path

import yaml
from google.protobuf import json_format

from ferry.v1 import profile_pb2


def _stringify_maps(node, key: str = ""):
    # map<string, string> values must be strings: YAML reads 1 or true as
    # numbers or booleans, so args/options/headers/labels/defaults are
    # turned back into text.
    if isinstance(node, dict):
        if key in ("args", "options", "headers", "labels", "defaults"):
            return {str(k): ("" if v is None else _text(v)) for k, v in node.items()}
        return {k: _stringify_maps(v, k) for k, v in node.items()}
    if isinstance(node, list):
        return [_stringify_maps(v, key) for v in node]
    return node


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def profile_from_yaml(text: str) -> profile_pb2.Profile:
    data = yaml.safe_load(text) or {}
    if not isinstance(data, dict):
        raise ValueError("a profile is a YAML mapping")
    return json_format.ParseDict(_stringify_maps(data), profile_pb2.Profile())


def load_profile(path: str | Path) -> profile_pb2.Profile:
    return profile_from_yaml(Path(path).read_text(encoding="utf-8"))
