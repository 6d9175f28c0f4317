"""The YAML of a profile's webhooks (``notifications``), read and written::

    notifications:
      - url: https://hooks.example.com/ferry
        events: [failed, recovered, stale, auto_paused]
        format: json            # or slack
        secret_ref: env:FERRY_WEBHOOK_SECRET

Kept apart from ``yaml_reader``/``yaml_writer`` (which call it) so each
stays one screenful of sections.
"""

from __future__ import annotations

from typing import Any

from ferry.v1 import profile_pb2 as pb

from ferry_domain.profiles.yaml_values import YamlValueReader

NOTIFICATION_KEYS = ("url", "events", "format", "secret_ref")


def read_notifications(reader: YamlValueReader, value: Any, profile: pb.Profile) -> None:
    """Add each webhook of ``value`` to ``profile``; ``reader`` collects the violations."""
    for where, spec in reader.section_list(value, "notifications", NOTIFICATION_KEYS,
                                           "webhooks (url, events, format, secret_ref)"):
        notification = profile.notifications.add()
        if "url" in spec:
            notification.url = reader.text(spec["url"], f"{where}.url")
        if "events" in spec:
            events = spec["events"] if isinstance(spec["events"], list) else [spec["events"]]
            notification.events.extend(
                reader.enum(event, "notification_event", f"{where}.events[{j}]")
                for j, event in enumerate(events))
        if "format" in spec:
            notification.format = reader.enum(spec["format"], "notification_format",
                                              f"{where}.format")
        if "secret_ref" in spec:
            notification.secret_ref = reader.text(spec["secret_ref"], f"{where}.secret_ref")


def notification_documents(profile: pb.Profile, enum_text: Any) -> list[dict[str, Any]]:
    """The YAML of each webhook; ``enum_text(kind, value)`` spells enum values."""
    documents = []
    for notification in profile.notifications:
        document: dict[str, Any] = {"url": notification.url,
                                    "events": [enum_text("notification_event", e)
                                               for e in notification.events]}
        if notification.format:
            document["format"] = enum_text("notification_format", notification.format)
        if notification.secret_ref:
            document["secret_ref"] = notification.secret_ref
        documents.append(document)
    return documents
