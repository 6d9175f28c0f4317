"""Confining file sources to configured root folders.

``confine_path(path, roots)`` returns the fully resolved path when it lies
inside one of ``roots`` and raises ``PathNotAllowedError`` otherwise:

- empty paths and paths holding a NUL byte are refused;
- a relative path is taken relative to the first root;
- ``..`` segments, absolute paths elsewhere and symlinks are resolved
  *before* the check (``Path.resolve(strict=True)``), so ``../`` escapes and
  symlinks that lead out are refused;
- containment compares whole path components, so ``/data/imports2`` is not
  inside the root ``/data/imports``.

``confine_glob(pattern, roots)`` confines a glob: the pattern's non-magic
prefix must lie inside a root, the pattern may hold no ``..`` segment, and
every match must resolve inside a root too.

Roots come from ``FERRY_FILE_ROOTS`` (``os.pathsep``-separated, e.g.
``/data/imports:/data/exports``); ``file_roots_from_env`` returns None when
it is unset, meaning file paths are not confined.

Limit: the check runs when the path is resolved. Open the returned (resolved)
path; someone who can write inside a root can still swap a directory for a
symlink between the check and the open.
"""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path

from ferry.config import ConfigError, Env
from ferry.errors import PermissionDeniedError

FILE_ROOTS_VAR = "FERRY_FILE_ROOTS"


class PathNotAllowedError(PermissionDeniedError):
    """A file path lies outside the allowed roots (or is not a usable path)."""


def file_roots_from_env(env: Env | None = None) -> list[Path] | None:
    """The resolved roots ``FERRY_FILE_ROOTS`` lists, or None when it is unset.

    Each root must be an absolute path to an existing directory.
    """
    env = env or Env()
    raw = env.str(FILE_ROOTS_VAR, "").strip()
    if not raw:
        return None
    roots: list[Path] = []
    for item in raw.split(os.pathsep):
        item = item.strip()
        if not item:
            continue
        path = Path(item)
        if not path.is_absolute():
            raise ConfigError(f"{FILE_ROOTS_VAR}: root {item!r} is not an absolute path")
        try:
            resolved = path.resolve(strict=True)
        except (OSError, RuntimeError) as exc:
            raise ConfigError(f"{FILE_ROOTS_VAR}: root {item} cannot be resolved "
                              f"({getattr(exc, 'strerror', None) or exc})") from None
        if not resolved.is_dir():
            raise ConfigError(f"{FILE_ROOTS_VAR}: root {item} is not a directory")
        roots.append(resolved)
    if not roots:
        raise ConfigError(f"{FILE_ROOTS_VAR}={raw!r} names no root folder")
    return roots


def _resolved_roots(roots: Sequence[Path]) -> list[Path]:
    if not roots:
        raise PathNotAllowedError("no file roots are configured, so no file path is allowed "
                                  f"(set {FILE_ROOTS_VAR})")
    resolved = []
    for root in roots:
        try:
            resolved.append(Path(root).resolve(strict=True))
        except (OSError, RuntimeError):
            continue  # a missing root allows nothing
    return resolved


def _inside(path: Path, root: Path) -> bool:
    return path.parts[:len(root.parts)] == root.parts


def _describe(roots: Sequence[Path]) -> str:
    return ", ".join(str(r) for r in roots)


def _check_text(path: str) -> None:
    if not isinstance(path, str) or not path.strip():
        raise PathNotAllowedError("file path is empty")
    if "\x00" in path:
        raise PathNotAllowedError("file path contains a NUL byte")


def _anchor(path: str, roots: Sequence[Path]) -> Path:
    candidate = Path(path)
    return candidate if candidate.is_absolute() else Path(roots[0]) / candidate


def confine_path(path: str, roots: Sequence[Path], *, must_exist: bool = True) -> Path:
    """The resolved ``path`` if it lies inside one of ``roots``.

    Raises PathNotAllowedError for paths outside every root. A path inside a
    root that does not exist raises FileNotFoundError, unless ``must_exist``
    is False (a file about to be written): then the path is returned with its
    existing part resolved (symlinks followed) and the rest appended.
    """
    _check_text(path)
    allowed = _resolved_roots(roots)
    candidate = _anchor(path, roots)
    try:
        resolved = candidate.resolve(strict=True)
    except FileNotFoundError:
        # Say "not found" only for paths that would be inside a root; otherwise
        # a caller could probe which files exist elsewhere.
        lexical = Path(os.path.realpath(candidate))
        if any(_inside(lexical, root) for root in allowed):
            if not must_exist:
                return lexical
            raise FileNotFoundError(f"file {path} does not exist") from None
        raise PathNotAllowedError(
            f"file path {path} is outside the allowed roots ({_describe(roots)})") from None
    except (OSError, RuntimeError) as exc:  # symlink loops, permission problems
        raise PathNotAllowedError(f"file path {path} cannot be resolved "
                                  f"({getattr(exc, 'strerror', None) or exc})") from None
    if not any(_inside(resolved, root) for root in allowed):
        raise PathNotAllowedError(
            f"file path {path} is outside the allowed roots ({_describe(roots)})")
    return resolved


def confine_path_lexically(path: str, roots: Sequence[Path]) -> Path:
    """``path`` made absolute and normalised (``..`` folded) if its text lies
    inside one of ``roots``; raises PathNotAllowedError otherwise.

    For a service that names files on volumes it does not mount (the registry
    checking ``--source`` for the runners): nothing is resolved on this
    machine, so symlinks are not followed here. The service that opens the
    file confines it again with ``confine_path``.
    """
    _check_text(path)
    if not roots:
        raise PathNotAllowedError("no file roots are configured, so no file path is allowed "
                                  f"(set {FILE_ROOTS_VAR})")
    candidate = Path(os.path.normpath(_anchor(path, roots)))
    if not any(_inside(candidate, Path(os.path.normpath(Path(root).absolute())))
               for root in roots):
        raise PathNotAllowedError(
            f"file path {path} is outside the allowed roots ({_describe(roots)})")
    return candidate


def _magic_index(parts: tuple[str, ...]) -> int:
    for index, part in enumerate(parts):
        if glob.has_magic(part):
            return index
    return len(parts)


def confine_glob(pattern: str, roots: Sequence[Path]) -> list[Path]:
    """The resolved matches of ``pattern`` (``**`` recurses), sorted.

    The non-magic prefix must lie inside a root; ``..`` segments are refused;
    any match resolving outside the roots makes the whole call fail.
    A pattern without magic is confined like ``confine_path`` (missing file:
    no match).
    """
    _check_text(pattern)
    allowed = _resolved_roots(roots)
    anchored = _anchor(pattern, roots)
    parts = anchored.parts
    if ".." in parts:
        raise PathNotAllowedError(f"file pattern {pattern} may not contain '..'")
    cut = _magic_index(parts)
    prefix = Path(*parts[:cut]) if cut else Path(anchored.anchor)
    lexical = Path(os.path.realpath(prefix))
    if not any(_inside(lexical, root) for root in allowed):
        raise PathNotAllowedError(
            f"file pattern {pattern} is outside the allowed roots ({_describe(roots)})")
    matches: set[Path] = set()
    for match in glob.iglob(str(anchored), recursive=True):
        try:
            matches.add(confine_path(match, roots))
        except FileNotFoundError:
            continue  # a dangling symlink inside a root: nothing to read
    return sorted(matches)
