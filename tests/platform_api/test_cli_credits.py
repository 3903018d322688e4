"""``terrafuse admin credits add``: buying credits for an organisation from the command line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from typer.testing import CliRunner

from terrafuse.cli import app
from terrafuse.store.credits import Credits
from terrafuse.store.db import Database
from terrafuse.store.organisations import Organisations

runner = CliRunner()


def admin(data_dir: Path, *args: str):
    return runner.invoke(app, ["admin", *args, "--data-dir", str(data_dir)])


def test_credits_add(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert admin(data, "org", "create", "--name", "Acme Ltd", "--namespace", "acme").exit_code == 0

    result = admin(data, "credits", "add", "--org", "acme", "--amount", "250")
    assert result.exit_code == 0, result.output
    assert "added 250 credits to acme" in result.output and "acme now has 250 credits" in result.output
    # By name, with decimals; and a payment reference makes a repeated purchase add nothing.
    for _ in range(2):
        result = admin(
            data, "credits", "add", "--org", "Acme Ltd", "--amount", "12.5", "--reference", "inv-1"
        )
        assert result.exit_code == 0, result.output
    assert "nothing added: reference 'inv-1' was already used" in result.output
    assert "acme now has 262.5 credits available" in result.output

    db = Database(f"sqlite:///{data / 'terrafuse.db'}")
    try:
        org = Organisations(db).by_namespace("acme")
        assert org is not None
        result = admin(data, "credits", "add", "--org", org.id, "--amount", "0.25", "--note", "goodwill")
        assert result.exit_code == 0, result.output
        credits = Credits(db)
        assert credits.balance(org.id).any_credits == Decimal("262.75") == credits.ledger_sum(org.id)
        assert [e.note for e in credits.entries(org.id)][-1] == "goodwill"
    finally:
        db.dispose()


def test_credits_add_explains_mistakes(tmp_path: Path) -> None:
    data = tmp_path / "data"
    assert admin(data, "org", "create", "--name", "Acme", "--namespace", "acme").exit_code == 0
    for org, amount, words in (
        ("globex", "10", "no organisation 'globex'"),
        ("acme", "-5", "must be positive"),
        ("acme", "0", "must be positive"),
        ("acme", "ten", "'ten' is not a number of credits"),
        ("acme", "NaN", "is not a number of credits"),
        ("acme", "1e13", "more than the ledger holds"),
    ):
        result = admin(data, "credits", "add", "--org", org, "--amount", amount)
        assert result.exit_code == 1, (amount, result.output)
        assert words in result.output and "Traceback" not in result.output
    result = admin(data, "credits", "add", "--org", "acme")
    assert result.exit_code == 2 and "--amount" in result.output
