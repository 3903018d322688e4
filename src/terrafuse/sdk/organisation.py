"""Organisations (the tenants that own data, processes and credits) and their credits.

Endpoints: ``/organisations/{id}`` (GET, PATCH, DELETE) and, below it (``~``), ``~/credits/{id}``,
``~/data``, ``~/data/uploaded``, ``~/services/latest``, ``~/services``,
``~/services/dispatchers``, ``~/processes`` and ``~/processes/new``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from terrafuse.sdk.constants import FILE_TYPES
from terrafuse.sdk.data import Data
from terrafuse.sdk.errors import ModelError, SDKError
from terrafuse.sdk.model import Model, find_first
from terrafuse.sdk.process import Process
from terrafuse.sdk.service import Service
from terrafuse.sdk.transfer import Upload

__all__ = ["Credit", "Organisation"]


class Credit(Model):
    """An organisation's credits: what it may spend, and what it spent per month.

    Read with ``organisation.credit`` (``GET ~/credits/{organisation_id}``); amounts are exact
    ``Decimal`` values.
    """

    id: str
    created_at: datetime
    updated_at: datetime
    organisation_id: str
    any_credits: Decimal
    cloud_storage_credits: Decimal
    registry_storage_credits: Decimal
    runtime_any_credits: Decimal
    runtime_ssds: list[dict[str, Any]] | None
    spend: list[dict[str, Any]] | None


class Organisation(Model):
    """An organisation the user belongs to: it owns data, processes and credits.

    From ``user.organisations`` or ``user.find_organisations``. Endpoint:
    ``/organisations/{id}``.
    """

    id: str
    created_at: datetime
    updated_at: datetime
    name: str
    address_line_1: str
    address_line_2: str | None
    address_town_city: str
    address_post_zip_code: str
    address_country: str
    payment_customer: str | None
    payment_valid: bool | None
    income_customer: str | None
    income_valid: bool | None
    income_tax_rate: Decimal | None
    income_tax_reference: str | None
    currency: str | None
    users: list[dict[str, Any]] | None
    agreed_licenses: list[str] | None
    offers: list[str] | None
    maximum_output_storage_period: int | None
    maximum_file_downloads: int | None

    @property
    def _path(self) -> str:
        return f"organisations/{self._require('id')}"

    def get(self) -> Organisation:
        """Reload the organisation (``GET /organisations/{id}``); itself."""
        model, _ = self._session.model("GET", self._path)
        self._load(model)
        return self

    def update(self, **fields: Any) -> Organisation:
        """Change the name or address, e.g. ``update(name='My Organisation')``
        (``PATCH /organisations/{id}``, needs the manage privilege); itself."""
        if not fields:
            raise ModelError("update needs at least one field, e.g. update(name='My Organisation')")
        body = {f"Organisation[{name}]": value for name, value in fields.items()}
        model, _ = self._session.model("PATCH", self._path, body=body)
        self._load(model)
        return self

    def delete(self) -> None:
        """Delete the organisation and everything it owns (``DELETE /organisations/{id}``)."""
        self._session.request("DELETE", self._path)

    # -- credits -------------------------------------------------------------------------------
    @property
    def credit(self) -> Credit:
        """The organisation's credits (``GET ~/credits/{id}``)."""
        model, _ = self._session.model("GET", f"{self._path}/credits/{self._require('id')}")
        return Credit(self._session, model)

    # -- data ----------------------------------------------------------------------------------
    def _data(self, params: dict[str, Any]) -> Iterator[Data]:
        session = self._session
        return (Data(session, values) for values in session.pages(f"{self._path}/data/uploaded", params))

    @property
    def data(self) -> Iterator[Data]:
        """The data items uploaded to the organisation (``GET ~/data/uploaded``), lazily."""
        return self._data({})

    def find_data(
        self, id: str | None = None, name: str | None = None, search: str | None = None
    ) -> tuple[Data | None, Iterator[Data]]:
        """``(first match or None, iterator over all matches)`` among the uploaded data items:
        by ``id``, by ``name`` (names starting with it; case-sensitive), or ``search`` (any
        field, case-insensitive) (``GET ~/data/uploaded``)."""
        return find_first(self._data(_filters(id=id, name=name, search=search)))

    def create_data(
        self,
        name: str,
        file_type: str,
        files: Sequence[str | os.PathLike[str]],
        wait: bool = False,
        timeout: float | None = None,
        **fields: Any,
    ) -> Data:
        """Create a data item named ``name`` and upload ``files`` (all of ``file_type``) to it.

        Calls ``POST ~/data``, then ``POST ~/data/{id}/add_file`` per file, and uploads each in
        the background (``PUT`` to the signed URL it gives). Returns once the item exists; use
        ``data.create_complete()`` to know when the uploads and the platform's analysis are done,
        or pass ``wait=True`` (with an optional ``timeout`` in seconds) to block until then.
        """
        paths = [os.fspath(path) for path in (files or ())]
        if not paths:
            raise ModelError("create_data needs files=[...] with at least one path")
        missing = [path for path in paths if not os.path.isfile(path)]
        if missing:
            raise ModelError(f"no such file: {', '.join(missing)}")
        if file_type not in FILE_TYPES:
            raise ModelError(f"unknown file type {file_type!r}; use one of the FILE_TYPE_* constants")
        session = self._session
        body = {f"Data[{key}]": value for key, value in {"name": name, **fields}.items()}
        model, _ = session.model("POST", f"{self._path}/data", body=body)
        data = Data(session, model)
        uploads: list[Upload] = []
        try:
            for path in paths:
                add = {"Data": {"name": os.path.basename(path), "file_type": file_type}}
                _, extras = session.model("POST", f"{self._path}/data/{data.id}/add_file", body=add)
                url = extras.get("url")
                if not isinstance(url, str) or not url:
                    raise ModelError(f"the platform gave no upload URL for {path}")
                uploads.append(Upload(session.files, session.options, url, path))
        except BaseException:
            # Nothing was uploaded yet: do not leave an empty item behind.
            with contextlib.suppress(SDKError):
                data.delete()
            raise
        for upload in uploads:
            upload.start()
        data = Data(session, model, uploads)
        if wait:
            data.create_complete(wait=True, timeout=timeout)
        return data

    # -- services --------------------------------------------------------------------------------
    def _services(self, path: str, params: dict[str, Any]) -> Iterator[Service]:
        session, org = self._session, self._require("id")
        return (Service(session, values, org) for values in session.pages(f"{self._path}/{path}", params))

    @property
    def services(self) -> Iterator[Service]:
        """The latest version of every service the organisation may use (``GET ~/services/latest``)."""
        return self._services("services/latest", {})

    @property
    def own_services(self) -> Iterator[Service]:
        """The services the organisation owns (``GET ~/services``)."""
        return self._services("services", {})

    def find_services(
        self,
        id: str | None = None,
        ssd_id: str | None = None,
        name: str | None = None,
        keyword: str | None = None,
        search: str | None = None,
    ) -> tuple[Service | None, Iterator[Service]]:
        """``(first match or None, iterator over all matches)`` among the latest services: by
        ``id``, ``ssd_id``, ``name`` (names starting with it), ``keyword`` (a keyword containing
        it) or ``search`` (any field, case-insensitive) (``GET ~/services/latest``)."""
        params = _filters(id=id, name=name, search=search)
        if ssd_id is not None:
            params["filter[ssd_id__eq]"] = ssd_id
        if keyword is not None:
            params["filter[keywords__contains]"] = keyword
        return find_first(self._services("services/latest", params))

    def find_dispatchers(
        self, id: str | None = None, name: str | None = None, search: str | None = None
    ) -> tuple[Service | None, Iterator[Service]]:
        """``(first match or None, iterator)`` among dispatcher services
        (``GET ~/services/dispatchers``)."""
        return find_first(self._services("services/dispatchers", _filters(id=id, name=name, search=search)))

    # -- processes -------------------------------------------------------------------------------
    def _processes(self, params: dict[str, Any]) -> Iterator[Process]:
        session = self._session
        return (Process(session, values) for values in session.pages(f"{self._path}/processes", params))

    @property
    def processes(self) -> Iterator[Process]:
        """The organisation's processes (``GET ~/processes``), lazily."""
        return self._processes({})

    def find_processes(
        self, id: str | None = None, name: str | None = None, search: str | None = None
    ) -> tuple[Process | None, Iterator[Process]]:
        """``(first match or None, iterator over all matches)`` among the processes: by ``id``,
        ``name`` (names starting with it) or ``search`` (``GET ~/processes``)."""
        return find_first(self._processes(_filters(id=id, name=name, search=search)))

    def new_process(self, name: str, service: Service) -> Process:
        """A template process of ``service`` named ``name`` (``GET ~/processes/new``).

        Nothing is stored yet: set inputs and options with ``update``, then call ``create``.
        """
        if not isinstance(service, Service):
            raise ModelError(f"new_process needs a Service (from find_services), not {service!r}")
        model, extras = self._session.model("GET", f"{self._path}/processes/new", {"service_id": service.id})
        model = {**model, "name": name}
        return Process(self._session, model, list(extras.get("dispatchers") or ()))


def _filters(id: str | None = None, name: str | None = None, search: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if id is not None:
        params["filter[id__eq]"] = id.strip()
    if name is not None:
        params["filter[name__begins_with]"] = name
    if search is not None:
        params["search"] = search
    return params
