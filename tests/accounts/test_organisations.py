"""Organisations with members and privileges; the accounts migration."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from terrafuse.core.accounts import ALL_PRIVILEGES, Principal, Privilege
from terrafuse.core.clock import utcnow
from terrafuse.errors import Conflict, Forbidden, InvalidInput, NotFound
from terrafuse.store.db import MIGRATIONS_DIR, Database
from terrafuse.store.tables import Base
from terrafuse.usecases import accounts as uc
from terrafuse.usecases.accounts import Accounts

from .conftest import PASSWORD, Clock

ACCOUNT_TABLES = ("users", "memberships", "sessions", "login_attempts", "organisations")


def _principal(ctx: Accounts, email: str) -> Principal:
    return uc.authenticate_password(ctx, email, PASSWORD)


@pytest.fixture
def world(accounts: Accounts) -> dict[str, str]:
    """Two organisations; alice views acme, bob executes in acme, carol manages globex."""
    acme = accounts.organisations.create("Acme", "acme")
    globex = accounts.organisations.create("Globex", "globex", address_country="US")
    for email in ("alice@example.com", "bob@example.com", "carol@example.com"):
        uc.create_user(accounts, email, PASSWORD)
    uc.add_member(accounts, "acme", "alice@example.com", "view")
    uc.add_member(accounts, "acme", "bob@example.com", "view,execute")
    uc.add_member(accounts, "globex", "carol@example.com", ALL_PRIVILEGES)
    return {"acme": acme.id, "globex": globex.id}


def test_require_hides_other_organisations(accounts: Accounts, world: dict[str, str]) -> None:
    alice = _principal(accounts, "alice@example.com")
    bob = _principal(accounts, "bob@example.com")
    assert uc.require(alice, world["acme"], Privilege.VIEW).privileges == {Privilege.VIEW}
    assert uc.require(alice, world["acme"]).organisation_id == world["acme"]
    with pytest.raises(Forbidden):
        uc.require(alice, world["acme"], Privilege.EXECUTE)
    assert uc.require(bob, world["acme"], Privilege.EXECUTE)
    with pytest.raises(Forbidden):
        uc.require(bob, world["acme"], Privilege.MANAGE)
    # Another organisation, an unknown id, and anonymous callers: the very same answer.
    answers = []
    for who, org_id in ((alice, world["globex"]), (alice, "no-such-id"), (Principal(), world["acme"])):
        with pytest.raises(NotFound) as info:
            uc.require(who, org_id, Privilege.VIEW)
        answers.append((type(info.value), info.value.detail.replace(org_id, "<id>")))
    assert len(set(answers)) == 1
    for call in (
        lambda: uc.get_organisation(accounts, alice, world["globex"]),
        lambda: uc.members(accounts, alice, world["globex"]),
        lambda: uc.update_organisation(accounts, alice, world["globex"], {"name": "Mine"}),
        lambda: uc.delete_organisation(accounts, alice, world["globex"]),
    ):
        with pytest.raises(NotFound):
            call()


def test_organisations_visible_to_a_user(accounts: Accounts, clock: Clock, world: dict[str, str]) -> None:
    bob = _principal(accounts, "bob@example.com")
    assert [o.namespace for o in uc.organisations(accounts, bob)] == ["acme"]
    clock.advance(seconds=1)  # oldest membership first
    uc.add_member(accounts, world["globex"], "bob@example.com", "view")
    bob = _principal(accounts, "bob@example.com")
    assert [o.namespace for o in uc.organisations(accounts, bob)] == ["acme", "globex"]
    assert uc.organisations(accounts, Principal()) == []
    org = uc.get_organisation(accounts, bob, world["globex"])
    assert org.name == "Globex" and org.address_country == "US" and org.address_line_1 == ""
    members = {email: m.privileges for m, email in uc.members(accounts, bob, world["acme"])}
    assert members == {
        "alice@example.com": {Privilege.VIEW},
        "bob@example.com": {Privilege.VIEW, Privilege.EXECUTE},
    }


def test_managers_update_and_delete_their_organisation(accounts: Accounts, world: dict[str, str]) -> None:
    alice = _principal(accounts, "alice@example.com")
    carol = _principal(accounts, "carol@example.com")
    with pytest.raises(Forbidden):
        uc.update_organisation(accounts, alice, world["acme"], {"name": "Mine"})
    before = accounts.organisations.by_id(world["globex"])
    org = uc.update_organisation(
        accounts,
        carol,
        world["globex"],
        {
            "name": "Globex Corp",
            "address_line_1": "1 Main St",
            "namespace": "stolen",
            "allow_anonymous": True,
        },
    )
    assert (org.name, org.address_line_1, org.namespace, org.allow_anonymous) == (
        "Globex Corp",
        "1 Main St",
        "globex",
        False,
    )
    assert before is not None and org.updated_at is not None and org.updated_at >= before.created_at
    with pytest.raises(InvalidInput):
        uc.update_organisation(accounts, carol, world["globex"], {"name": ""})
    with pytest.raises(Forbidden):
        uc.delete_organisation(accounts, alice, world["acme"])
    uc.delete_organisation(accounts, carol, world["globex"])
    assert accounts.organisations.by_id(world["globex"]) is None
    assert accounts.memberships.get(accounts.users.by_email("carol@example.com").id, world["globex"]) is None  # type: ignore[union-attr]


def test_operator_actions(accounts: Accounts, world: dict[str, str]) -> None:
    with pytest.raises(Conflict):
        uc.create_user(accounts, "ALICE@example.com", PASSWORD)
    with pytest.raises(Conflict):
        accounts.organisations.create("Another", "acme")
    with pytest.raises(InvalidInput):
        accounts.organisations.create("Bad", "Not A Namespace")
    with pytest.raises(InvalidInput, match="special character"):
        uc.create_user(accounts, "dave@example.com", "Password123")
    with pytest.raises(NotFound):
        uc.add_member(accounts, "nowhere", "alice@example.com", "view")
    with pytest.raises(NotFound):
        uc.add_member(accounts, "acme", "nobody@example.com", "view")
    with pytest.raises(InvalidInput):
        uc.add_member(accounts, "acme", "alice@example.com", "view,root")
    # By name, by id; re-adding replaces the privileges.
    _, user, membership, created = uc.add_member(accounts, "Acme", "alice@example.com", "view,manage")
    assert not created and membership.privileges == {Privilege.VIEW, Privilege.MANAGE}
    assert accounts.memberships.get(user.id, world["acme"]).privileges == membership.privileges  # type: ignore[union-attr]
    accounts.organisations.create("Acme", "acme-two")
    with pytest.raises(InvalidInput, match="namespace"):
        uc.find_organisation(accounts, "Acme")
    assert uc.find_organisation(accounts, world["acme"]).namespace == "acme"


def test_demo_account_is_created_once(accounts: Accounts) -> None:
    acme = accounts.organisations.ensure("Acme", "acme", allow_anonymous=True)
    first = uc.ensure_demo_account(accounts, acme)
    again = uc.ensure_demo_account(accounts, acme)
    assert first.id == again.id and first.email == "me@org.com"
    assert len(accounts.users.list()) == 1
    assert accounts.memberships.get(first.id, acme.id).privileges == ALL_PRIVILEGES  # type: ignore[union-attr]
    result = uc.login(accounts, email="me@org.com", password="MyPassword123!")
    assert result.user_id == first.id


def test_schema_matches_the_table_models(db: Database) -> None:
    from alembic.autogenerate import compare_metadata

    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    mine = [d for d in diffs if any(t in repr(d) for t in ACCOUNT_TABLES)]
    assert mine == []
    assert set(ACCOUNT_TABLES) <= set(inspect(db.engine).get_table_names())


def test_upgrade_keeps_existing_organisations(database_url: str) -> None:
    db = Database(database_url)
    try:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "0001")
        with db.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO organisations (id, name, namespace, allow_anonymous, created_at) "
                "VALUES ('o1', 'Old', 'old', true, '2025-01-01 00:00:00')"
            )
        db.migrate()
        accounts = Accounts(db)
        org = accounts.organisations.by_namespace("old")
        assert org is not None and org.name == "Old" and org.allow_anonymous
        assert org.address_line_1 == "" and org.updated_at == org.created_at
        # And back down again (the accounts revision only).
        with db.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "0001")
        assert "users" not in inspect(db.engine).get_table_names()
        assert accounts.organisations.db.engine  # the old row survived the round trip
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT name FROM organisations").scalar_one() == "Old"
    finally:
        db.dispose()


def test_memberships_follow_users_and_organisations(accounts: Accounts, world: dict[str, str]) -> None:
    alice = accounts.users.by_email("alice@example.com")
    assert alice is not None
    assert accounts.memberships.remove(alice.id, world["acme"])
    assert not accounts.memberships.remove(alice.id, world["acme"])
    assert accounts.memberships.set(alice.id, world["acme"], [Privilege.VIEW], utcnow())
    accounts.users.delete(alice.id)
    assert [email for _, email in accounts.memberships.for_organisation(world["acme"])] == ["bob@example.com"]
