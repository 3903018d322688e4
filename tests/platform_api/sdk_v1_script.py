"""Run by the Fusion SDK 1.1.4 in its own virtual environment: accounts, organisations, credits.

Usage: python sdk_v1_script.py <api_url> <email> <password>. Prints one JSON object of what the
SDK saw. Imports nothing of terrafuse or of the tests: it is the published client, unchanged.
"""

import json
import sys

import fusion_platform
from fusion_platform.session import RequestError

api_url, email, password = sys.argv[1:4]
seen = {"version": fusion_platform.__version__}

user = fusion_platform.login(email=email, password=password, api_url=api_url)
seen["user"] = {"id": str(user.id), "email": user.email, "given_name": user.given_name, "units": user.units}
organisations = list(user.organisations)
seen["organisations"] = [{"id": str(o.id), "name": o.name} for o in organisations]
organisation = organisations[0]
found, _ = user.find_organisations(id=organisation.id)
seen["found"] = str(found.id) if found else None
credit = organisation.credit
seen["credit"] = {"id": str(credit.id), "any_credits": str(credit.any_credits)}

old_names = (user.given_name, user.family_name)
user.update(given_name="Ada", family_name="Lovelace")
seen["updated"] = [user.given_name, user.family_name]
again = fusion_platform.login(email=email, password=password, api_url=api_url)
seen["reloaded"] = [again.given_name, again.family_name]
user.update(given_name=old_names[0], family_name=old_names[1])

try:
    fusion_platform.login(email=email, password="Not-The-Password1!", api_url=api_url)
    seen["wrong_password"] = None
except RequestError as exc:
    seen["wrong_password"] = str(exc)

print(json.dumps(seen))
