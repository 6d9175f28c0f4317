"""Static validation and YAML of SFTP / FTP sources."""

from __future__ import annotations

from ferry.v1 import profile_pb2 as pb
from ferry_domain.profiles.validation import validate_profile
from ferry_domain.profiles.yaml_codec import dump_profile, load_profiles

SFTP_YAML = """
name: supplier-sftp
entity: products
operation: import
source:
  kind: sftp
  location: sftp://feeds@sftp.supplier.example:2222/outgoing/products-*.csv
  selection: newest
  credentials: env:SUPPLIER_SFTP_KEY
  host_key: "SHA256:4Zb3mXvQ1y0m8cH7cJw8yZC1vTg2b6Yw0B7bq3lK0yE"
mapping:
  key: [sku]
  fields:
    sku: {source: sku}
    name: {source: name}
"""


def violations(profile: pb.Profile) -> dict[str, str]:
    return {v.field: v.description for v in validate_profile(profile)}


def sftp() -> pb.Profile:
    [profile] = load_profiles(SFTP_YAML, "sftp.yaml")
    return profile


def test_an_sftp_profile_loads_validates_and_round_trips():
    profile = sftp()
    assert profile.source.kind == pb.SOURCE_KIND_SFTP
    assert profile.source.host_key.startswith("SHA256:")
    assert violations(profile) == {}
    assert load_profiles(dump_profile(profile), "dumped") == [profile]


def test_an_sftp_source_needs_a_way_to_check_the_host_key():
    profile = sftp()
    profile.source.host_key = ""
    assert "unchecked host is refused" in violations(profile)["profile.source.host_key"]
    profile.source.known_hosts = "/etc/ferry/known_hosts"
    assert violations(profile) == {}


def test_location_must_be_a_url_of_the_kind_without_a_password():
    profile = sftp()
    profile.source.location = "ftp://feeds@host/in.csv"
    assert "sftp://" in violations(profile)["profile.source.location"]
    profile.source.location = "sftp://feeds:secret@host/in.csv"
    assert "credentials_ref" in violations(profile)["profile.source.location"]
    profile.source.location = "sftp://feeds@host/in/*/x.csv"
    assert "last part" in violations(profile)["profile.source.location"]


def test_ftps_and_fields_of_other_kinds():
    profile = sftp()
    profile.source.kind = pb.SOURCE_KIND_FTP
    profile.source.location = "ftp://feeds@ftp.example/in/*.csv"
    profile.source.tls = True
    assert set(violations(profile)) == {"profile.source.host_key"}  # sftp only
    profile.source.host_key = ""
    assert violations(profile) == {}
    profile.source.kind = pb.SOURCE_KIND_HTTP
    profile.source.location = "https://example.com/feed.csv"
    assert "profile.source.tls" in violations(profile)


def test_the_sftp_and_ftp_examples_of_the_reference_are_valid():
    from pathlib import Path

    text = (Path(__file__).parents[3] / "docs" / "profiles.md").read_text()
    blocks = [b.split("```", 1)[0] for b in text.split("```yaml\n")[1:]]
    remote = [b for b in blocks if "kind: sftp" in b or "kind: ftp" in b]
    assert len(remote) == 2
    for block in remote:
        [profile] = load_profiles(block, "docs/profiles.md")
        assert violations(profile) == {}, profile.name
        assert load_profiles(dump_profile(profile), "dumped") == [profile]


def test_stable_for_applies_to_server_folders_but_ready_marker_does_not():
    profile = sftp()
    profile.source.stable_for.seconds = 120
    assert violations(profile) == {}
    profile.source.ready_marker = "{name}.done"
    assert "profile.source.ready_marker" in violations(profile)


def test_a_source_override_reads_a_file_on_the_profiles_own_server():
    import pytest
    from ferry.errors import InvalidArgumentError
    from ferry_domain.engine.sources.override import check_source_override, with_source_override

    url = "sftp://feeds@sftp.supplier.example:2222/outgoing/products-2026-03-01.csv"
    assert check_source_override(url, None) == url
    with pytest.raises(InvalidArgumentError):
        check_source_override("sftp://feeds:pw@host/x.csv", None)
    with pytest.raises(InvalidArgumentError):
        check_source_override("gopher://host/x.csv", None)
    # Another host in the override cannot receive the profile's credentials.
    run = with_source_override(sftp(), "sftp://someone@elsewhere.example/outgoing/x.csv")
    assert run.source.location == "sftp://feeds@sftp.supplier.example:2222/outgoing/x.csv"
    assert run.source.selection == pb.FILE_SELECTION_NEWEST
