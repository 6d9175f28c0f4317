"""File sources stay inside the configured roots, whatever the path says."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from ferry.config import ConfigError, Env
from ferry.security.paths import (
    PathNotAllowedError,
    confine_glob,
    confine_path,
    file_roots_from_env,
)


@pytest.fixture
def tree(tmp_path: Path) -> dict[str, Path]:
    """/imports (root) with files and links, /imports2 (sibling), /secret outside."""
    imports = tmp_path / "imports"
    (imports / "daily").mkdir(parents=True)
    (imports / "products.csv").write_text("sku\n")
    (imports / "daily" / "a.csv").write_text("sku\n")
    (imports / "daily" / "b.csv").write_text("sku\n")
    sibling = tmp_path / "imports2"
    sibling.mkdir()
    (sibling / "products.csv").write_text("sku\n")
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "passwords.txt").write_text("hunter2\n")
    (imports / "leak.csv").symlink_to(secret / "passwords.txt")
    (imports / "outside").symlink_to(secret, target_is_directory=True)
    (imports / "alias.csv").symlink_to(imports / "products.csv")
    return {"root": imports, "sibling": sibling, "secret": secret}


def test_a_file_inside_the_root_is_returned_resolved(tree) -> None:
    root = tree["root"]
    assert confine_path(str(root / "products.csv"), [root]) == root / "products.csv"
    assert confine_path(str(root / "daily" / ".." / "products.csv"), [root]) == (
        root / "products.csv")
    assert confine_path("daily/a.csv", [root]) == root / "daily" / "a.csv"


def test_a_symlink_that_stays_inside_is_allowed(tree) -> None:
    root = tree["root"]
    assert confine_path(str(root / "alias.csv"), [root]) == root / "products.csv"


@pytest.mark.parametrize("path", [
    "../secret/passwords.txt",
    "daily/../../secret/passwords.txt",
    "leak.csv",
    "outside/passwords.txt",
])
def test_escapes_relative_to_the_root_are_refused(tree, path: str) -> None:
    with pytest.raises(PathNotAllowedError) as caught:
        confine_path(path, [tree["root"]])
    assert "outside the allowed roots" in str(caught.value)


def test_absolute_paths_elsewhere_are_refused(tree) -> None:
    with pytest.raises(PathNotAllowedError):
        confine_path(str(tree["secret"] / "passwords.txt"), [tree["root"]])
    with pytest.raises(PathNotAllowedError):
        confine_path("/etc/passwd", [tree["root"]])


def test_a_sibling_folder_sharing_the_prefix_is_outside(tree) -> None:
    assert str(tree["sibling"]).startswith(str(tree["root"]))
    with pytest.raises(PathNotAllowedError):
        confine_path(str(tree["sibling"] / "products.csv"), [tree["root"]])


def test_symlink_escape_is_refused_even_when_the_target_does_not_exist(tree) -> None:
    root = tree["root"]
    (root / "dangling.csv").symlink_to(tree["secret"] / "missing.txt")
    with pytest.raises(PathNotAllowedError):
        confine_path(str(root / "dangling.csv"), [root])


@pytest.mark.parametrize(("path", "message"), [
    ("", "file path is empty"),
    ("   ", "file path is empty"),
    ("products.csv\x00.txt", "NUL byte"),
])
def test_empty_and_nul_paths_are_refused(tree, path: str, message: str) -> None:
    with pytest.raises(PathNotAllowedError) as caught:
        confine_path(path, [tree["root"]])
    assert message in str(caught.value)


def test_missing_file_inside_a_root_is_not_found_unless_about_to_be_written(tree) -> None:
    root = tree["root"]
    with pytest.raises(FileNotFoundError):
        confine_path(str(root / "new.csv"), [root])
    assert confine_path(str(root / "out" / "new.csv"), [root], must_exist=False) == (
        root / "out" / "new.csv")
    with pytest.raises(PathNotAllowedError):
        confine_path(str(root / "outside" / "new.csv"), [root], must_exist=False)


def test_missing_file_outside_the_roots_is_refused_not_reported_missing(tree) -> None:
    with pytest.raises(PathNotAllowedError):
        confine_path(str(tree["secret"] / "nothing-here"), [tree["root"]])


def test_second_root_allows_its_files(tree) -> None:
    roots = [tree["root"], tree["sibling"]]
    assert confine_path(str(tree["sibling"] / "products.csv"), roots) == (
        tree["sibling"] / "products.csv")


def test_no_roots_allow_nothing(tree) -> None:
    with pytest.raises(PathNotAllowedError) as caught:
        confine_path(str(tree["root"] / "products.csv"), [])
    assert "FERRY_FILE_ROOTS" in str(caught.value)


def test_a_root_given_through_a_symlink_still_confines(tree, tmp_path) -> None:
    link = tmp_path / "link-to-imports"
    link.symlink_to(tree["root"], target_is_directory=True)
    assert confine_path(str(link / "products.csv"), [link]) == tree["root"] / "products.csv"
    with pytest.raises(PathNotAllowedError):
        confine_path(str(link / "leak.csv"), [link])


def test_glob_matches_inside_the_root(tree) -> None:
    root = tree["root"]
    assert confine_glob(str(root / "daily" / "*.csv"), [root]) == [
        root / "daily" / "a.csv", root / "daily" / "b.csv"]
    assert confine_glob("daily/*.csv", [root]) == [root / "daily" / "a.csv",
                                                   root / "daily" / "b.csv"]
    assert confine_glob(str(root / "daily" / "*.json"), [root]) == []


@pytest.mark.parametrize("pattern", [
    "/etc/*",
    "{sibling}/*.csv",
    "{root}/../secret/*",
    "{root}/daily/*/../../../secret/*",
    "{root}/outside/*",
])
def test_glob_whose_prefix_leaves_the_root_is_refused(tree, pattern: str) -> None:
    with pytest.raises(PathNotAllowedError):
        confine_glob(pattern.format(root=tree["root"], sibling=tree["sibling"]), [tree["root"]])


def test_glob_refuses_when_a_match_leads_out(tree) -> None:
    root = tree["root"]
    with pytest.raises(PathNotAllowedError) as caught:
        confine_glob(str(root / "*.csv"), [root])
    assert "leak.csv" in str(caught.value)
    os.unlink(root / "leak.csv")
    assert confine_glob(str(root / "*.csv"), [root]) == [root / "products.csv"]


def test_recursive_glob_refuses_links_out(tree) -> None:
    root = tree["root"]
    os.unlink(root / "leak.csv")
    with pytest.raises(PathNotAllowedError):
        confine_glob(str(root / "**" / "*.txt"), [root])  # outside/passwords.txt


def test_glob_refuses_empty_and_nul(tree) -> None:
    for pattern in ("", "*\x00"):
        with pytest.raises(PathNotAllowedError):
            confine_glob(pattern, [tree["root"]])


def test_roots_from_env(tree) -> None:
    raw = os.pathsep.join([str(tree["root"]), "", str(tree["sibling"])])
    assert file_roots_from_env(Env({"FERRY_FILE_ROOTS": raw})) == [tree["root"],
                                                                    tree["sibling"]]
    assert file_roots_from_env(Env({})) is None


@pytest.mark.parametrize(("value", "message"), [
    ("relative/dir", "is not an absolute path"),
    ("/no/such/root/for/ferry", "cannot be resolved"),
])
def test_bad_roots_fail_fast(value: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        file_roots_from_env(Env({"FERRY_FILE_ROOTS": value}))
    assert str(caught.value).startswith("FERRY_FILE_ROOTS")
    assert message in str(caught.value)


def test_a_file_is_not_a_root(tree) -> None:
    with pytest.raises(ConfigError) as caught:
        file_roots_from_env(Env({"FERRY_FILE_ROOTS": str(tree["root"] / "products.csv")}))
    assert "is not a directory" in str(caught.value)


def test_lexical_confinement_needs_no_mount_and_folds_dot_dot(tmp_path: Path) -> None:
    """The registry checks runners' paths it cannot see: only their text."""
    from ferry.security.paths import confine_path_lexically
    from ferry_domain.engine.sources.override import check_source_override

    roots = [tmp_path / "not-mounted-here"]
    inside = str(roots[0] / "failed" / "2026" / "x.csv")
    assert confine_path_lexically(inside, roots) == Path(inside)
    assert check_source_override(inside, roots) == inside
    for outside in (str(roots[0] / ".." / "etc" / "passwd"), str(tmp_path / "not-mounted-hereX"),
                    "../../x.csv"):
        with pytest.raises(PathNotAllowedError):
            confine_path_lexically(outside, roots)
