"""Static checks of SFTP and FTP sources (no I/O): the location is a URL of
the source's kind with a host and no password, the glob is only in the last
part, an SFTP source says how its host key is checked, and the SFTP / FTP
only fields are not set on other kinds."""

from __future__ import annotations

from ferry.errors import Violation
from ferry.v1 import profile_pb2 as pb

from ferry_domain.engine.errors import PermanentSourceError
from ferry_domain.engine.sources.remote.location import is_remote, parse_location


def check_remote_source(source: pb.Source) -> list[Violation]:
    violations: list[Violation] = []
    if source.kind != pb.SOURCE_KIND_SFTP:
        violations += [Violation(f"profile.source.{name}", "applies to sftp sources only")
                       for name in ("host_key", "known_hosts") if getattr(source, name)]
    if source.kind != pb.SOURCE_KIND_FTP and source.tls:
        violations.append(Violation("profile.source.tls", "applies to ftp sources only"))
    if not is_remote(source.kind):
        return violations
    if not source.location.strip():
        return [*violations, Violation("profile.source.location",
                                       "is required (a URL such as sftp://user@host/in/*.csv)")]
    try:
        parse_location(source.location, source.kind)
    except PermanentSourceError as exc:
        violations.append(Violation("profile.source.location",
                                    exc.message.removeprefix("source.location ")))
    if source.kind == pb.SOURCE_KIND_SFTP and not (source.host_key or source.known_hosts):
        violations.append(Violation(
            "profile.source.host_key",
            "an sftp source needs host_key (the server's SHA256:... fingerprint) or "
            "known_hosts (a known_hosts file): an unchecked host is refused"))
    if source.host_key and not source.host_key.startswith("SHA256:"):
        violations.append(Violation("profile.source.host_key",
                                    'must be a fingerprint "SHA256:..." as ssh-keygen -lf prints'))
    return violations
