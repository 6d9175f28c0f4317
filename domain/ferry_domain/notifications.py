"""Webhook notices: which change is notified, what is sent, how it is signed.
Pure: no I/O (the registry's outbox and sender do the writing and POSTing).

- ``run_notice``: the notice a finished run triggers. ``failed`` for a live
  run ending FAILED; ``recovered`` for a live run that did work (COMPLETED or
  WARNING) when the previous live run that ended COMPLETED, WARNING or
  FAILED failed. Dry runs never notify.
- ``document`` / ``body``: Ferry's JSON document, or Slack-compatible
  ``{"text": ...}``; built once, when the notice is written to the outbox.
- ``signature``: ``sha256=<hex>`` of HMAC-SHA256 over ``<timestamp>.<body>``
  with the profile's secret (``X-Ferry-Signature``, ``X-Ferry-Timestamp``).
- ``masked_url``: a webhook URL as logs and events show it.
- ``DELIVERY_RETRY``: 5 attempts, backoff 1 s doubling to 60 s.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ferry.retry import RetrySettings
from ferry.v1 import profile_pb2 as pb

from ferry_domain.runs.states import DID_WORK, RunStatus

SCHEMA_VERSION = 1
SIGNATURE_HEADER = "X-Ferry-Signature"
TIMESTAMP_HEADER = "X-Ferry-Timestamp"
EVENT_HEADER = "X-Ferry-Event"
DELIVERY_HEADER = "X-Ferry-Delivery"


class Notice(enum.Enum):
    """What a webhook is told about (``ferry.v1.NotificationEvent``)."""

    FAILED = pb.NOTIFICATION_EVENT_FAILED
    RECOVERED = pb.NOTIFICATION_EVENT_RECOVERED
    STALE = pb.NOTIFICATION_EVENT_STALE
    AUTO_PAUSED = pb.NOTIFICATION_EVENT_AUTO_PAUSED

    @property
    def label(self) -> str:
        """``failed``, ``recovered``, ``stale``, ``auto_paused``: the YAML spelling."""
        return self.name.lower()


class DeliveryState(enum.IntEnum):
    """A notice in the outbox: waiting (or being sent), delivered, or given up."""

    PENDING = 0
    DELIVERED = 1
    FAILED = 2


class RetryableDeliveryError(Exception):
    """An attempt that may work later: no answer, a timeout, 408, 429 or 5xx."""


class DeliveryError(Exception):
    """An attempt that will not work by trying again (another 4xx, a missing secret)."""


# 5 attempts in all: waits of 1 s, 2 s, 4 s, 8 s (doubling, at most 60 s) plus jitter.
DELIVERY_RETRY = RetrySettings(max_attempts=5, initial_backoff=1.0, max_backoff=60.0,
                               max_elapsed=None, jitter=0.5,
                               retry_on=(RetryableDeliveryError,))


def run_notice(status: RunStatus, *, dry_run: bool, previous_failed: bool) -> Notice | None:
    """The notice a run ending in ``status`` triggers; ``previous_failed``: the
    profile's previous live run ending COMPLETED, WARNING or FAILED failed."""
    if dry_run:
        return None
    if status == RunStatus.FAILED:
        return Notice.FAILED
    if status in DID_WORK and previous_failed:
        return Notice.RECOVERED
    return None


# Finished live runs that decide whether the next one that did work "recovered".
RECOVERY_BASIS = frozenset({*DID_WORK, RunStatus.FAILED})


def subscribers(profile: pb.Profile, notice: Notice) -> list[pb.ProfileNotification]:
    """The profile's webhooks that asked for ``notice``."""
    return [n for n in profile.notifications if notice.value in n.events]


def _time(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def document(notice: Notice, *, profile: str, when: datetime, message: str,
             run: Mapping[str, Any] | None = None,
             details: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Ferry's JSON document of a notice (docs/operations.md shows one)."""
    doc: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "event": notice.label,
                           "profile": profile, "time": _time(when), "message": message}
    if run is not None:
        doc["run"] = dict(run)
    if details:
        doc["details"] = dict(details)
    return doc


_SLACK_ICONS = {Notice.FAILED: ":red_circle:", Notice.RECOVERED: ":large_green_circle:",
                Notice.STALE: ":hourglass:", Notice.AUTO_PAUSED: ":double_vertical_bar:"}


def body(fmt: int, doc: Mapping[str, Any]) -> bytes:
    """The POST body for ``fmt`` (a ``ferry.v1.NotificationFormat``)."""
    if fmt == pb.NOTIFICATION_FORMAT_SLACK:
        notice = Notice[str(doc["event"]).upper()]
        text = f"{_SLACK_ICONS[notice]} Ferry: {doc['profile']} {notice.label.replace('_', '-')}"
        text += f": {doc['message']}"
        return json.dumps({"text": text}, ensure_ascii=False).encode()
    return json.dumps(doc, ensure_ascii=False, sort_keys=True).encode()


def signature(secret: str, timestamp: int, payload: bytes) -> str:
    """``sha256=<hex>``: HMAC-SHA256 with ``secret`` over ``<timestamp>.<payload>``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def masked_url(url: str) -> str:
    """``https://hooks.example.com/services/…``: no user or password, no query,
    and only the first path segment (webhook URLs often carry a token in the
    path, as Slack's do)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    segments = [s for s in parts.path.split("/") if s]
    path = "/" + segments[0] if segments else parts.path
    if len(segments) > 1 or parts.query:
        path += "/…"
    return urlunsplit((parts.scheme, host, path, "", ""))
