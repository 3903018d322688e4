"""Services: the algorithms an organisation may run (``~/services/latest``, ``~/services/{id}``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from terrafuse.sdk.model import Model
from terrafuse.sdk.session import Session

__all__ = ["Service"]


class Service(Model):
    """A service: an algorithm with its inputs, options, documentation and price.

    Found with ``organisation.services`` or ``organisation.find_services``; turned into a
    runnable process with ``organisation.new_process(name, service)``. ``ssd_id`` names the
    service across versions; ``id`` names one version. Endpoint: ``~/services/{id}``.
    """

    id: str
    created_at: datetime
    updated_at: datetime
    organisation_id: str
    ssd_id: str
    version: int
    approval_status: str
    featured: bool | None
    show_in_latest: bool | None
    name: str
    categories: list[str]
    keywords: list[str]
    image_id: str
    license_id: str
    definition: Any
    group_aggregators: Any
    actions: Any
    urls: Any
    cidrs: Any
    organisations: Any
    geographic_regions: Any
    documentation_summary: str | None
    documentation_description: str | None
    documentation_assumptions: str | None
    documentation_performance: str | None
    documentation_actions: str | None
    documentation_inputs: list[str] | None
    documentation_outputs: list[str] | None
    documentation_options: list[str] | None

    def __init__(self, session: Session, values: dict[str, Any], organisation_id: str) -> None:
        super().__init__(session, values)
        # The organisation it was found through: services belong to the platform, but are read
        # through the caller's organisation.
        object.__setattr__(self, "_organisation_id", organisation_id)

    def get(self) -> Service:
        """Reload the service (``GET ~/services/{id}``); itself."""
        model, _ = self._session.model(
            "GET", f"organisations/{self._organisation_id}/services/{self._require('id')}"
        )
        self._load(model)
        return self
