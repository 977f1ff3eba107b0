"""The CLI contract (DESIGN, "Commands"): one line per error, non-zero exit, no traceback."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from listserv.cli import main
from tests.support.server import write_config


def listserv(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The command as a user runs it: the console entry point, in this process."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["--config", str(config), *args])
        except SystemExit as exit_:
            code = int(exit_.code or 0)
    return subprocess.CompletedProcess(list(args), code, out.getvalue(), err.getvalue())


def test_the_installed_command_runs_and_fails_without_a_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "listserv", "--config", str(tmp_path / "none.toml"), "init"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LISTSERV_CONFIG": ""},
    )
    one_line_error(result, 1, "no such config file")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = write_config(tmp_path)
    assert listserv(path, "init").returncode == 0
    return path


def one_line_error(result: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert text in lines[0]
    assert "Traceback" not in result.stderr


def test_init_is_idempotent_and_keeps_the_key(config: Path) -> None:
    key = (config.parent / "secret.key").read_text()
    again = listserv(config, "init")
    assert again.returncode == 0
    assert "secret key kept" in again.stdout
    assert (config.parent / "secret.key").read_text() == key
    assert oct((config.parent / "secret.key").stat().st_mode & 0o777) == "0o600"


def test_lists_and_members_round_trip(config: Path, tmp_path: Path) -> None:
    created = listserv(
        config,
        "list",
        "create",
        "CISO@Lists.Example",
        "--name",
        "CISO group",
        "--tlp",
        "amber+strict",
        "--nonmember",
        "reject",
        "--red",
        "refuse",
    )
    assert created.returncode == 0, created.stderr
    shown = listserv(config, "list", "show", "ciso@lists.example").stdout
    assert "TLP:AMBER+STRICT" in shown
    assert "reject" in shown
    added = listserv(
        config,
        "member",
        "add",
        "ciso@lists.example",
        "Alice@Operator-A.example",
        "--name",
        "Alice Müller",
        "--org",
        "Operator A GmbH",
        "--org-domain",
        "operator-a.example",
        "--org-domain",
        "op-a.example",
        "--role",
        "owner",
        "--alias",
        "AMü",
    )
    assert added.returncode == 0, added.stderr
    csv = tmp_path / "members.csv"
    csv.write_text(
        "email,name,org,org_domains,role\nbob@operator-b.example,Bob Brown,Operator B,"
        "operator-b.example,moderator\n"
    )
    assert listserv(config, "member", "import", "ciso@lists.example", str(csv)).returncode == 0
    members = json.loads(listserv(config, "member", "list", "ciso@lists.example", "--json").stdout)
    assert [(m["email"], m["role"]) for m in members] == [
        ("alice@operator-a.example", "owner"),
        ("bob@operator-b.example", "moderator"),
    ]
    assert members[0]["org_domains"] == ["operator-a.example", "op-a.example"]
    assert members[0]["aliases"] == ["AMü"]
    assert (
        listserv(
            config, "member", "remove", "ciso@lists.example", "bob@operator-b.example"
        ).returncode
        == 0
    )
    members = json.loads(listserv(config, "member", "list", "ciso@lists.example", "--json").stdout)
    assert [m["email"] for m in members] == ["alice@operator-a.example"]


def test_user_mistakes_are_one_line_and_non_zero(config: Path, tmp_path: Path) -> None:
    listserv(config, "list", "create", "ciso@lists.example")
    one_line_error(listserv(config, "list", "create", "ciso@lists.example"), 1, "exists already")
    one_line_error(
        listserv(config, "list", "show", "nope@lists.example"), 1, "no list nope@lists.example"
    )
    one_line_error(
        listserv(config, "list", "create", "x@lists.example", "--tlp", "PURPLE"),
        1,
        "not a TLP label",
    )
    one_line_error(
        listserv(config, "member", "add", "ciso@lists.example", "not-an-address"),
        1,
        "not an e-mail address",
    )
    one_line_error(
        listserv(config, "member", "remove", "ciso@lists.example", "who@x.example"),
        1,
        "is not a member",
    )
    bad = tmp_path / "bad.csv"
    bad.write_text("email,name,org,org_domains,role\nok@x.example,Ok,,,\nbroken@,B,,,\n")
    one_line_error(
        listserv(config, "member", "import", "ciso@lists.example", str(bad)), 1, "row 3:"
    )
    one_line_error(
        listserv(config, "member", "import", "ciso@lists.example", str(tmp_path / "none.csv")),
        1,
        "no such file",
    )
    one_line_error(listserv(config, "held", "approve", "999"), 1, "no held post #999")
    one_line_error(listserv(config, "member", "add"), 2, "Missing argument")
    one_line_error(
        listserv(config, "list", "create", "x@lists.example", "--bogus"), 2, "No such option"
    )


def test_config_errors_and_a_missing_database_are_one_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[smtp]\nprot = 25\n")
    one_line_error(
        listserv(broken, "list", "show", "x@lists.example"), 1, "unknown key [smtp] prot"
    )
    fresh = write_config(tmp_path)
    one_line_error(
        listserv(fresh, "list", "show", "x@lists.example"), 1, "run `listserv init` first"
    )
    serve = subprocess.run(
        [sys.executable, "-m", "listserv", "--config", str(fresh), "serve"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    one_line_error(serve, 1, "run `listserv init` first")
