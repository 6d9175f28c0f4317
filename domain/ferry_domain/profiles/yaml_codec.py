"""Profiles in YAML (the format of docs/profiles.md) to and from ``ferry.v1.Profile``.

``load_profiles`` reads one or several documents and reports every problem at
once as an :class:`ferry.errors.InvalidArgumentError` whose violations name the
document and the key (``document 2: source.kind``). ``dump_profile`` writes the
document ``load_profiles`` reads back to an equal profile.

YAML is read as YAML 1.2 core scalars: only ``true``/``false`` are booleans
(``yes``, ``no``, ``on``, ``NO`` stay strings, so country codes survive), dates
stay strings, and a key given twice in one mapping is an error.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from ferry.errors import InvalidArgumentError, Violation
from ferry.v1 import profile_pb2

from ferry_domain.profiles.yaml_reader import ProfileReader
from ferry_domain.profiles.yaml_writer import profile_document

_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")


class ProfileYamlLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans, no timestamps and no duplicate keys."""


ProfileYamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ProfileYamlLoader.add_implicit_resolver("tag:yaml.org,2002:bool", _BOOL, list("tTfF"))


def _construct_mapping(loader: ProfileYamlLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool):
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain value", key_node.start_mark)
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f'key "{key}" is given twice', key_node.start_mark)
        result[key] = loader.construct_object(value_node, deep=True)
    return result


ProfileYamlLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
                                  _construct_mapping)


def _syntax_error(source_name: str, exc: yaml.YAMLError) -> InvalidArgumentError:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
    detail = f"{context}, {problem}" if context and problem else problem
    violation = Violation(f"{source_name}: {where}", f"YAML syntax error: {detail}")
    return InvalidArgumentError(f"{source_name}: {where}: YAML syntax error: {detail}",
                                [violation])


def load_profiles(text: str, source_name: str) -> list[profile_pb2.Profile]:
    """Every profile in ``text`` (empty documents are skipped), in file order.

    Raises InvalidArgumentError naming the document number (1-based) and key
    of each problem, or the line and column of a YAML syntax error."""
    try:
        documents = list(yaml.load_all(text, Loader=ProfileYamlLoader))  # noqa: S506 - safe
    except yaml.YAMLError as exc:
        raise _syntax_error(source_name, exc) from None
    profiles: list[profile_pb2.Profile] = []
    violations: list[Violation] = []
    for number, document in enumerate(documents, start=1):
        if document is None:
            continue
        prefix = f"document {number}: "
        if not isinstance(document, dict):
            violations.append(Violation(f"document {number}",
                                        "expected a mapping of profile keys"))
            continue
        reader = ProfileReader(prefix)
        profile = reader.profile(document)
        violations += reader.violations
        if "name" not in document:
            violations.append(Violation(f"{prefix}name", "is required"))
        profiles.append(profile)
    if violations:
        raise InvalidArgumentError(f"invalid profile file {source_name}:", violations)
    if not profiles:
        raise InvalidArgumentError(f"{source_name}: no profile found (the file is empty)",
                                   [Violation(source_name, "no profile found")])
    return profiles


def dump_profile(profile: profile_pb2.Profile) -> str:
    """The YAML document of ``profile`` (output-only fields are left out)."""
    return yaml.safe_dump(profile_document(profile), sort_keys=False, allow_unicode=True,
                          default_flow_style=False, width=100)


def dump_profiles(profiles: list[profile_pb2.Profile]) -> str:
    """Several profiles as one multi-document YAML text."""
    return "---\n".join(dump_profile(p) for p in profiles)
