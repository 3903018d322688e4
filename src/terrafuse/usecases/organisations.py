"""Use cases that span an organisation's accounts, data and executions."""

from __future__ import annotations

from terrafuse.core.accounts import Principal, Privilege
from terrafuse.core.organisations import Organisation
from terrafuse.usecases import accounts as accounts_uc
from terrafuse.usecases.data import remove_organisation_objects
from terrafuse.usecases.executions import Platform


def delete_organisation(platform: Platform, principal: Principal, organisation_id: str) -> Organisation:
    """Delete an organisation with everything it owns: rows, uploaded files and job outputs.

    Running work stops by itself: its heartbeat finds the execution gone and cancels it.
    """
    accounts_uc.require(principal, organisation_id, Privilege.MANAGE)
    execution_ids = platform.rt.executions.ids_of_organisation(organisation_id)
    org = accounts_uc.delete_organisation(platform.accounts, principal, organisation_id)
    # Rows first (a failure leaves bytes, never rows pointing at missing bytes), then the bytes.
    remove_organisation_objects(platform.data, organisation_id)
    for execution_id in execution_ids:
        platform.dispatcher.executor.cancel(execution_id)
        platform.rt.storage.delete_prefix(f"{execution_id}/")
    return org
