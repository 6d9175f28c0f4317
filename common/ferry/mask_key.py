"""The masking key of a service (runner or registry): the secret
``FERRY_MASK_KEY`` points at, or a key generated once in
``<FERRY_STATE_DIR>/mask.key`` (mode 0600), so masks stay stable across
restarts. Services that must agree on masks share one ``FERRY_MASK_KEY``."""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import tempfile
from pathlib import Path

from ferry.config import ConfigError, Env
from ferry.secrets import SecretError, check_secret_ref, resolve_secret

log = logging.getLogger(__name__)

MASK_KEY_FILE = "mask.key"
MIN_KEY_CHARS = 16


def mask_key_ref_from_env(env: Env) -> str:
    """``FERRY_MASK_KEY``: a secret reference, or empty (ConfigError when it
    holds anything else, such as the key itself)."""
    ref = env.str("FERRY_MASK_KEY", "").strip()
    if check_secret_ref(ref, "FERRY_MASK_KEY"):
        raise ConfigError("FERRY_MASK_KEY must reference the key as env:NAME or "
                          "file:/absolute/path, not hold it")
    return ref


def load_mask_key(ref: str, state_dir: str | Path) -> bytes:
    """The masking key: the secret ``ref`` points at, or (``ref`` empty) the
    one kept in ``<state_dir>/mask.key``, generated on first use. Raises
    ``ConfigError`` naming FERRY_MASK_KEY (never the key)."""
    if ref:
        try:
            value = resolve_secret(ref)
        except SecretError as exc:
            raise ConfigError(f"FERRY_MASK_KEY: {exc}") from None
        if len(value.strip()) < MIN_KEY_CHARS:
            raise ConfigError(f"FERRY_MASK_KEY: the key must be at least {MIN_KEY_CHARS} "
                              "characters")
        return value.encode("utf-8")
    path = Path(state_dir) / MASK_KEY_FILE
    try:
        if not path.exists():
            _create_key_file(path)
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"FERRY_MASK_KEY is unset and {path} cannot be used "
                          f"({exc.strerror or exc})") from None
    if len(value) < MIN_KEY_CHARS:
        raise ConfigError(f"FERRY_MASK_KEY is unset and {path} holds no usable key "
                          f"(at least {MIN_KEY_CHARS} characters); delete it or set "
                          "FERRY_MASK_KEY")
    return value.encode("utf-8")


def _create_key_file(path: Path) -> None:
    """Write a random key to ``path`` (mode 0600) unless another process did
    first: the key is written to a private temporary file, then hard-linked
    into place, so a reader never sees a partial key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                                     suffix=".partial")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_hex(32) + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        with contextlib.suppress(FileExistsError):  # another runner was first: use its key
            os.link(temporary, path)
            log.info("generated a masking key in %s (set FERRY_MASK_KEY to share one key "
                     "between runners)", path)
    finally:
        Path(temporary).unlink(missing_ok=True)
