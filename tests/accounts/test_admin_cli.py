"""``terrafuse admin``: users, organisations, members; clear errors, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from terrafuse.cli import app
from terrafuse.store.db import Database
from terrafuse.usecases import accounts as uc
from terrafuse.usecases.accounts import Accounts

from .conftest import PASSWORD

runner = CliRunner()


def admin(data_dir: Path, *args: str, input: str | None = None):
    return runner.invoke(app, ["admin", *args, "--data-dir", str(data_dir)], input=input)


def test_create_list_and_add_members(tmp_path: Path) -> None:
    data = tmp_path / "data"
    result = admin(data, "user", "create", "--email", "Alice@Example.com", "--password", PASSWORD,
                   "--given-name", "Alice", "--family-name", "Liddell")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "created user alice@example.com" in result.output
    # The password may be typed at a prompt instead (hidden, asked twice).
    result = admin(data, "user", "create", "--email", "bob@example.com", input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    result = admin(data, "org", "create", "--name", "Acme Ltd", "--namespace", "acme")
    assert result.exit_code == 0 and "members only" in result.output
    result = admin(data, "org", "create", "--name", "Open", "--namespace", "open", "--anonymous")
    assert result.exit_code == 0 and "anonymous access" in result.output
    result = admin(data, "org", "add-member", "--org", "acme", "--email", "alice@example.com",
                   "--privileges", "view,execute,manage")  # fmt: skip
    assert (
        result.exit_code == 0 and "added: alice@example.com in acme with view+execute+manage" in result.output
    )
    result = admin(data, "org", "add-member", "--org", "Acme Ltd", "--email", "alice@example.com",
                   "--privileges", "view")  # fmt: skip
    assert result.exit_code == 0 and "updated: alice@example.com in acme with view" in result.output

    users = admin(data, "user", "list").output
    assert "alice@example.com" in users and "Alice Liddell" in users and "acme(view)" in users
    orgs = admin(data, "org", "list").output
    assert "acme" in orgs and "Acme Ltd" in orgs and "alice@example.com(view)" in orgs and "open" in orgs

    # What the CLI wrote is what the server reads.
    db = Database(f"sqlite:///{data / 'terrafuse.db'}")
    try:
        ctx = Accounts(db, b"k" * 32)
        assert uc.login(ctx, email="alice@example.com", password=PASSWORD).user_id
    finally:
        db.dispose()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("user", "create", "--email", "alice@example.com", "--password", PASSWORD), "already exists"),
        (("user", "create", "--email", "ALICE@example.com", "--password", PASSWORD), "already exists"),
        (("user", "create", "--email", "new@example.com", "--password", "password"), "too weak"),
        (("user", "create", "--email", "not-an-address", "--password", PASSWORD), "not a valid e-mail"),
        (("org", "create", "--name", "Again", "--namespace", "acme"), "already taken"),
        (("org", "create", "--name", "Bad", "--namespace", "Bad Space"), "invalid namespace"),
        (("org", "add-member", "--org", "nowhere", "--email", "alice@example.com"), "no organisation"),
        (("org", "add-member", "--org", "acme", "--email", "ghost@example.com"), "no user"),
        (("org", "add-member", "--org", "acme", "--email", "alice@example.com", "--privileges", "root"),
         "unknown privilege"),
    ],
)  # fmt: skip
def test_errors_are_clear(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    data = tmp_path / "data"
    assert (
        admin(data, "user", "create", "--email", "alice@example.com", "--password", PASSWORD).exit_code == 0
    )
    assert admin(data, "org", "create", "--name", "Acme", "--namespace", "acme").exit_code == 0
    result = admin(data, *args)
    assert result.exit_code == 1
    assert message in result.output and "error:" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_database_url_from_the_environment(database_url: str) -> None:
    env = {"TERRAFUSE_DATABASE_URL": database_url}
    args = ["admin", "org", "create", "--name", "Acme", "--namespace", "acme"]
    assert runner.invoke(app, args, env=env).exit_code == 0
    result = runner.invoke(app, ["admin", "org", "list"], env=env)
    assert result.exit_code == 0 and "acme" in result.output


def test_unreachable_database(tmp_path: Path) -> None:
    env = {"TERRAFUSE_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    result = runner.invoke(app, ["admin", "user", "list"], env=env)
    assert result.exit_code == 1 and "error: database error" in result.output
    assert "Traceback" not in result.output


def test_empty_lists(tmp_path: Path) -> None:
    assert "no users" in admin(tmp_path, "user", "list").output
    assert "no organisations" in admin(tmp_path, "org", "list").output


def test_real_process(tmp_path: Path) -> None:
    """``python -m terrafuse admin ...`` as an operator types it, error paths included."""
    data = str(tmp_path / "data")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TERRAFUSE_")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "terrafuse", "admin", *args, "--data-dir", data],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )

    ok = run("user", "create", "--email", "me@example.com", "--password", PASSWORD)
    assert ok.returncode == 0 and "created user me@example.com" in ok.stdout, ok.stderr
    assert run("org", "create", "--name", "Acme", "--namespace", "acme").returncode == 0
    ok = run(
        "org", "add-member", "--org", "acme", "--email", "me@example.com", "--privileges", "view,execute"
    )
    assert ok.returncode == 0 and "view+execute" in ok.stdout
    assert "me@example.com" in run("user", "list").stdout
    for args, message in (
        (("user", "create", "--email", "me@example.com", "--password", PASSWORD), "already exists"),
        (("user", "create", "--email", "weak@example.com", "--password", "weak"), "too weak"),
        (("org", "add-member", "--org", "nowhere", "--email", "me@example.com"), "no organisation"),
    ):
        failed = run(*args)
        assert failed.returncode == 1
        assert message in failed.stderr and "Traceback" not in failed.stderr + failed.stdout
