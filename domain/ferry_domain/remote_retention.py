"""Retention of SFTP / FTP source files on their server after a run, with
the rules of ``ferry_domain.retention`` for local files:

- success: keep, delete, or move to ``<backup_dir>/YYYY/MM/DD/<name>``;
- failure: move to ``<failed_dir>/YYYY/MM/DD/<name>`` when a failed folder
  is set, else leave the file where it is (a failed source is never lost).

``backup_dir`` and ``failed_dir`` are folders on the server: absolute, or
relative to the folder the source lists. Moves are server-side renames that
never overwrite (a clash gets ``-1``, ``-2``...). After any run, backups
in dated folders older than ``keep_backup_days`` are purged from the server;
purging old failed files is done for local folders only."""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from datetime import UTC, date, datetime

from ferry.v1 import profile_pb2

from ferry_domain.engine.errors import EngineError
from ferry_domain.engine.sources.remote.client import RemoteClient, connect
from ferry_domain.engine.sources.remote.location import parse_location
from ferry_domain.retention import Action, RetentionError

_MAX_SUFFIX = 1000


def _root(client: RemoteClient, folder: str) -> str:
    if not folder.startswith("/"):
        folder = posixpath.join(client.location.folder, folder)
    return posixpath.normpath(folder)


def _within(path: str, folder: str) -> bool:
    return posixpath.normpath(path).startswith(folder.rstrip("/") + "/")


def _dated(client: RemoteClient, root: str, when: datetime) -> str:
    root = _root(client, root)
    day = when.astimezone(UTC)
    return posixpath.normpath(f"{root}/{day.year:04d}/{day.month:02d}/{day.day:02d}")


def _free_name(client: RemoteClient, folder: str, name: str) -> str:
    stem, dot, suffix = name.partition(".") if not name.startswith(".") else (name, "", "")
    for n in range(_MAX_SUFFIX):
        candidate = name if n == 0 else f"{stem}-{n}{dot}{suffix}"
        target = f"{folder}/{candidate}"
        if client.stat(target) is None:
            return target
    raise RetentionError(f"no free name for {name} in {folder}")


def _move(client: RemoteClient, path: str, folder: str) -> str:
    client.make_folders(folder)
    target = _free_name(client, folder, posixpath.basename(path))
    client.rename(path, target)
    return target


def apply_remote(source: profile_pb2.Source, urls: Sequence[str],
                 policy: profile_pb2.RetentionPolicy, now: datetime, *,
                 failed: bool) -> list[Action]:
    """The retention steps for the files a run read (their URLs). Raises
    ``RetentionError`` (with the steps already done) when one cannot be done."""
    action = policy.on_success
    moves = (bool(policy.failed_dir) if failed else
             action in (profile_pb2.SUCCESS_ACTION_MOVE_TO_BACKUP,
                        profile_pb2.SUCCESS_ACTION_DELETE))
    purges = policy.keep_backup_days > 0 and bool(policy.backup_dir)
    if not moves and not purges:
        return []
    if moves and not failed and action == profile_pb2.SUCCESS_ACTION_MOVE_TO_BACKUP \
            and not policy.backup_dir:
        raise RetentionError("retention.backup_dir is required to move files to backup")
    done: list[Action] = []
    try:
        client = connect(source)
    except EngineError as exc:
        raise RetentionError(str(exc)) from None
    try:
        for url in urls if moves else []:
            path = parse_location(url, source.kind).path
            shown = client.location.url(path)
            if client.stat(path) is None:
                continue
            if failed and _within(path, _root(client, policy.failed_dir)):
                # A retry that read the failed file where it is: it stays there.
                done.append(Action("MOVED_TO_FAILED", shown, "already there; run failed", now))
            elif failed:
                target = _move(client, path, _dated(client, policy.failed_dir, now))
                done.append(Action("MOVED_TO_FAILED", client.location.url(target),
                                   f"from {shown}; run failed", now))
            elif action == profile_pb2.SUCCESS_ACTION_MOVE_TO_BACKUP:
                target = _move(client, path, _dated(client, policy.backup_dir, now))
                done.append(Action("MOVED_TO_BACKUP", client.location.url(target),
                                   f"from {shown}", now))
            else:
                client.remove(path)
                done.append(Action("DELETED", shown, "imported successfully", now))
        if purges:
            done += purge_backups(client, policy.backup_dir, policy.keep_backup_days, now)
    except EngineError as exc:
        raise RetentionError(str(exc), done) from None
    finally:
        client.close()
    return done


def _dated_folders(client: RemoteClient, root: str) -> list[tuple[date, str]]:
    found = []
    for year in client.list_folders(root):
        for month in client.list_folders(f"{root}/{year}") if year.isdigit() else []:
            for day in client.list_folders(f"{root}/{year}/{month}") if month.isdigit() else []:
                try:
                    when = date(int(year), int(month), int(day))
                except ValueError:
                    continue  # not a folder Ferry made
                found.append((when, f"{root}/{year}/{month}/{day}"))
    return sorted(found)


def purge_backups(client: RemoteClient, backup_dir: str, keep_days: int,
                  now: datetime) -> list[Action]:
    """Remove the files of ``<backup_dir>/YYYY/MM/DD`` folders more than
    ``keep_days`` full days before ``now``, then those emptied day folders."""
    done: list[Action] = []
    today = now.astimezone(UTC).date()
    for day, folder in _dated_folders(client, _root(client, backup_dir)):
        age = (today - day).days
        if age <= keep_days:
            continue
        for remote in client.list_files(folder):
            client.remove(remote.path)
            done.append(Action("PURGED", client.location.url(remote.path),
                               f"in the backup folder since {day.isoformat()}, {age} days "
                               "(keep_backup_days)", now))
        if not client.list_files(folder) and not client.list_folders(folder):
            client.remove_folder(folder)
    return done
