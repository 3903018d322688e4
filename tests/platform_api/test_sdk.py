"""The published Fusion SDKs, unchanged, against a real ``terrafuse serve --demo`` process.

2.2.5 runs in this interpreter; 1.1.4 runs in its own virtual environment (``sdk_v1_python``).
Both sign in as the guide's account, walk its organisations, read the credits and change the
user; what they change is put back, so the demo account stays as the guide describes it.
"""

from __future__ import annotations

import json
import subprocess
import uuid
from decimal import Decimal
from pathlib import Path

import fusion_platform
import pytest
from fusion_platform.models.organisation import Organisation
from fusion_platform.models.user import User
from fusion_platform.session import RequestError

from terrafuse.usecases.accounts import DEMO_EMAIL, DEMO_PASSWORD
from tests.support.server import ServerProcess

pytestmark = pytest.mark.e2e
NEW_PASSWORD = "MyNewPassword123!"


def _login(server: ServerProcess, password: str = DEMO_PASSWORD) -> User:
    return fusion_platform.login(email=DEMO_EMAIL, password=password, api_url=f"{server.url}/api")


def test_sdk_2_2_5_user_organisations_and_credits(sdk_server: ServerProcess) -> None:
    assert fusion_platform.__version__ == "2.2.5"
    user = _login(sdk_server)

    # Guide, section 4: the user object and its details.
    assert user.email == DEMO_EMAIL and (user.given_name, user.family_name) == ("Demo", "User")
    assert isinstance(user.id, uuid.UUID) and user.time_zone == "UTC" and user.units == "metric"
    assert user.created_at.tzinfo is not None and user.last_request_at.tzinfo is not None
    assert "organisations" not in user.attributes  # hidden, as the SDK declares it

    # "for organisation in user.organisations: print(organisation.name)"
    organisations = list(user.organisations)
    assert [o.name for o in organisations] == ["Acme"]
    organisation = organisations[0]
    assert organisation.address_line_1 == "" and organisation.address_line_2 is None
    assert [(u.get("email"), list(u.get("roles"))) for u in organisation.users] == [
        (DEMO_EMAIL, ["view", "execute", "manage"])
    ]
    found, everything = user.find_organisations(id=str(organisation.id))
    assert found is not None and found.id == organisation.id
    assert [o.id for o in everything] == [organisation.id]
    assert user.find_organisations(name="ACM")[0].id == organisation.id  # v2: case-insensitive prefix
    assert user.find_organisations(id=str(uuid.uuid4()))[0] is None

    # The organisation's credits: the demo grants 1000.
    credit = organisation.credit
    assert credit.id == credit.organisation_id == organisation.id
    assert credit.any_credits == Decimal(1000) and isinstance(credit.any_credits, Decimal)
    assert credit.cloud_storage_credits == Decimal(0) and list(credit.runtime_ssds) == []
    # Section 11: printing a model and its CSV form work on what the server sent.
    for model in (user, organisation, credit):
        assert type(model).__name__ in repr(model) and "id" in model.to_csv()[0].split(",")

    # "user.update(given_name='Joe', family_name='Bloggs')", and back.
    user.update(given_name="Joe", family_name="Bloggs")
    assert (user.given_name, user.family_name) == ("Joe", "Bloggs")
    again = _login(sdk_server)
    assert (again.given_name, again.family_name) == ("Joe", "Bloggs") and again.email == DEMO_EMAIL
    user.update(given_name="Demo", family_name="User")
    assert _login(sdk_server).given_name == "Demo"

    # "organisation.update(name='My Organisation')", and back.
    organisation.update(name="My Organisation")
    assert organisation.name == "My Organisation" and next(user.organisations).name == "My Organisation"
    organisation.update(name="Acme")
    assert next(_login(sdk_server).organisations).name == "Acme"


def test_sdk_2_2_5_change_password(sdk_server: ServerProcess) -> None:
    user = _login(sdk_server)
    with pytest.raises(RequestError, match="old password is not correct"):
        user.change_password(old="Not-The-Password1!", new=NEW_PASSWORD)
    user.change_password(old=DEMO_PASSWORD, new=NEW_PASSWORD)
    try:
        with pytest.raises(RequestError, match="wrong e-mail address, user id or password"):
            _login(sdk_server)
        changed = _login(sdk_server, NEW_PASSWORD)
        assert changed.id == user.id
        assert user.get() is None and user.email == DEMO_EMAIL  # the changing session lives on
    finally:
        _login(sdk_server, NEW_PASSWORD).change_password(old=NEW_PASSWORD, new=DEMO_PASSWORD)
    assert _login(sdk_server).email == DEMO_EMAIL


def test_sdk_2_2_5_errors_carry_the_servers_message(sdk_server: ServerProcess) -> None:
    with pytest.raises(RequestError, match="wrong e-mail address, user id or password"):
        _login(sdk_server, "Not-The-Password1!")
    user = _login(sdk_server)
    with pytest.raises(RequestError, match="no organisation with id"):
        Organisation._model_from_api_id(user._session, id=str(uuid.uuid4()))
    with pytest.raises(RequestError, match="no user with id"):
        User._model_from_api_id(user._session, id=str(uuid.uuid4()))


def test_sdk_1_1_4_in_its_own_environment(sdk_server: ServerProcess, sdk_v1_python: Path) -> None:
    script = Path(__file__).with_name("sdk_v1_script.py")
    done = subprocess.run(
        [str(sdk_v1_python), str(script), f"{sdk_server.url}/api", DEMO_EMAIL, DEMO_PASSWORD],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["version"] == "1.1.4"
    assert seen["user"]["email"] == DEMO_EMAIL and seen["user"]["given_name"] == "Demo"
    assert [o["name"] for o in seen["organisations"]] == ["Acme"]
    org_id = seen["organisations"][0]["id"]
    assert seen["found"] == seen["credit"]["id"] == org_id
    assert Decimal(seen["credit"]["any_credits"]) == 1000
    assert seen["updated"] == seen["reloaded"] == ["Ada", "Lovelace"]
    assert "wrong e-mail address, user id or password" in seen["wrong_password"]
    # The script put the names back.
    assert (_login(sdk_server).given_name, _login(sdk_server).family_name) == ("Demo", "User")
