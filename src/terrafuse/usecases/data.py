"""Data use cases: data items, file uploads, their analysis in the background, downloads, copies.

Uploads never pass through a use case: ``add_file`` records the file and hands out a signed PUT
URL of the object store. Once the bytes are stored, the file's analysis starts on a worker
(:func:`run_file_analysis`, a module-level function given ids and settings, like executions).
Two paths notice a stored upload, and whichever comes first starts the analysis (a conditional
UPDATE lets exactly one win):

* the object store's PUT route calls :func:`upload_finished` right after storing the object;
* listing a data item's files looks for files still awaiting their upload whose object exists
  (this also covers stores the client uploads to directly, such as S3).

Listing also restarts analyses whose run stopped reporting (the server or worker was restarted)
and fails a file whose runs keep getting lost, so no file stays "analysing" forever.

Reading needs the ``view`` privilege; creating, uploading, renaming, copying and deleting need
``execute`` (or ``manage``). Another organisation's data answers exactly as data that does not
exist.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from terrafuse.core.accounts import Principal, Privilege
from terrafuse.core.clock import new_id, utcnow
from terrafuse.core.data import (
    ANALYSIS_LOST,
    DOWNLOAD_URL_TTL,
    MAX_ANALYSIS_ATTEMPTS,
    UPLOAD_URL_TTL,
    Data,
    DataFile,
    FileResult,
    FileState,
    analysis_is_stale,
    check_data_id,
    check_data_name,
    check_file_name,
    check_file_type,
    data_prefix,
    file_key,
    organisation_prefix,
    parse_file_key,
)
from terrafuse.core.listing import ListQuery
from terrafuse.errors import Conflict, Forbidden, NotFound
from terrafuse.storage.base import ObjectStore
from terrafuse.store.credits import Credits
from terrafuse.store.data import DATA_LIST, FILE_LIST, DataStore
from terrafuse.usecases.accounts import require, require_write
from terrafuse.usecases.file_analysis import run_file_analysis

if TYPE_CHECKING:
    from terrafuse.config import Settings
    from terrafuse.engine.runner import Runtime

log = logging.getLogger(__name__)

NO_CREDITS = (
    "the organisation has no credits left: files cannot be uploaded until credits are bought "
    "(stored files are charged daily)"
)
_COPY_CHUNK = 1 << 20

DATA_FILTERS = DATA_LIST.filter_names
"""Fields a data list may filter on (``filter[<field>__<modifier>]``)."""
DATA_CURSOR = DATA_LIST.cursor_keys
"""Keys of a data list's ``last`` cursor."""
FILE_FILTERS = FILE_LIST.filter_names
FILE_CURSOR = FILE_LIST.cursor_keys

Submit = Callable[..., None]
"""``submit(fn, *args)``: run a module-level function with plain arguments on a worker."""


def not_in_use(data_id: str) -> bool:
    """The ``in_use`` of a data context without processes (tests of data alone)."""
    return False


@dataclass
class DataContext:
    """What the data use cases act on (built by :func:`build_data_context`)."""

    store: DataStore
    storage: ObjectStore
    credits: Credits
    settings: Settings
    submit: Submit
    in_use: Callable[[str], bool] = not_in_use
    clock: Callable[[], datetime] = field(default=utcnow)

    @functools.cached_property
    def settings_wire(self) -> dict[str, Any]:
        """The settings as plain data, for analysis tasks."""
        return self.settings.to_wire()

    @property
    def lease(self) -> timedelta:
        """How long an analysis run may stay silent before it is given up for lost."""
        return timedelta(seconds=self.settings.job_lease_seconds)

    def stored_bytes(self, organisation_id: str) -> int:
        """Bytes the organisation stores in files (for the daily storage charge)."""
        return self.store.stored_bytes(organisation_id)


def build_data_context(rt: Runtime, executor: object | None = None) -> DataContext:
    """The data context of a runtime; analyses go to ``executor.submit_task`` when it has one,
    else to a background thread of this process."""
    submit_task = getattr(executor, "submit_task", None)
    submit: Submit = (
        functools.partial(submit_task, key="file-analysis") if submit_task is not None else _in_thread
    )
    # A data item bound to a process's input cannot be deleted.
    return DataContext(
        DataStore(rt.db), rt.storage, rt.credits, rt.settings, submit, in_use=rt.processes.using_data
    )


def _in_thread(fn: Callable[..., Any], *args: Any) -> None:
    threading.Thread(target=fn, args=args, name="file-analysis", daemon=True).start()


def stored_bytes(ctx: DataContext, organisation_id: str) -> int:
    """Bytes the organisation stores in files (what the daily storage charge bills)."""
    return ctx.stored_bytes(organisation_id)


def remove_organisation_objects(ctx: DataContext, organisation_id: str) -> int:
    """Delete the bytes of every data item of an organisation; how many objects went.

    For deleting an organisation (``usecases.organisations``): its data records go with it
    (foreign-key cascade), its objects do not.
    """
    return ctx.storage.delete_prefix(organisation_prefix(organisation_id))


def delete_organisation_data(ctx: DataContext, organisation_id: str) -> tuple[list[str], list[str]]:
    """Delete every data item of an organisation, with its files and their bytes, except items a
    process uses; (deleted ids, kept ids). For the operator's jobs (storage billing): no
    privilege check, the caller decides. Never touches another organisation's data.
    """
    deleted: list[str] = []
    kept: list[str] = []
    for data_id in ctx.store.data_ids(organisation_id):
        data = ctx.store.get(organisation_id, data_id)
        if data is None:  # deleted meanwhile
            continue
        if not can_delete(ctx, data):
            kept.append(data_id)
            continue
        # Records first, as in delete_data: once gone, nothing is billed or served.
        if ctx.store.delete(organisation_id, data_id):
            deleted.append(data_id)
        ctx.storage.delete_prefix(data_prefix(organisation_id, data_id))
    return deleted, kept


# -- privileges and lookups -----------------------------------------------------------------------
def _can_read(principal: Principal, organisation_id: str) -> None:
    require(principal, organisation_id, Privilege.VIEW)


def _can_write(principal: Principal, organisation_id: str) -> None:
    require_write(principal, organisation_id)


def _data(ctx: DataContext, organisation_id: str, data_id: str) -> Data:
    data = ctx.store.get(organisation_id, data_id)
    if data is None:
        raise NotFound(f"no data item with id {data_id!r}")
    return data


def _file(ctx: DataContext, organisation_id: str, data_id: str, file_id: str) -> DataFile:
    found = ctx.store.file(organisation_id, data_id, file_id)
    if found is None:
        raise NotFound(f"no file with id {file_id!r} in data item {data_id!r}")
    return found


def _require_credits(ctx: DataContext, organisation_id: str) -> None:
    if ctx.credits.balance(organisation_id, months=1).any_credits <= 0:
        raise Forbidden(NO_CREDITS)


# -- data items -----------------------------------------------------------------------------------
def can_delete(ctx: DataContext, data: Data) -> bool:
    """Whether the data item may be deleted now (no process uses it)."""
    return not ctx.in_use(data.id)


def template(ctx: DataContext, principal: Principal, organisation_id: str) -> str:
    """Check the caller may see the organisation (for the new-item template); its id."""
    _can_read(principal, organisation_id)
    return organisation_id


def create_data(
    ctx: DataContext, principal: Principal, organisation_id: str, fields: Mapping[str, Any]
) -> Data:
    """A new, empty data item named ``fields['name']``, with the client's ``id`` if one is given."""
    _can_write(principal, organisation_id)
    name = check_data_name(fields.get("name"))
    data_id = check_data_id(fields["id"]) if fields.get("id") is not None else new_id()
    _require_credits(ctx, organisation_id)
    now = ctx.clock()
    return ctx.store.add(
        Data(id=data_id, organisation_id=organisation_id, name=name, created_at=now, updated_at=now)
    )


def list_data(
    ctx: DataContext, principal: Principal, organisation_id: str, query: ListQuery
) -> tuple[list[Data], dict[str, Any] | None]:
    """A page of the organisation's uploaded data items (and the next page's cursor)."""
    _can_read(principal, organisation_id)
    return ctx.store.page(organisation_id, query)


def get_data(ctx: DataContext, principal: Principal, organisation_id: str, data_id: str) -> Data:
    """One of the organisation's data items."""
    _can_read(principal, organisation_id)
    return _data(ctx, organisation_id, data_id)


def update_data(
    ctx: DataContext, principal: Principal, organisation_id: str, data_id: str, fields: Mapping[str, Any]
) -> Data:
    """Rename the data item (its name is the only thing that can change)."""
    _can_write(principal, organisation_id)
    data = _data(ctx, organisation_id, data_id)
    if fields.get("name") is None:
        return data
    renamed = ctx.store.rename(organisation_id, data_id, check_data_name(fields["name"]), ctx.clock())
    if renamed is None:
        raise NotFound(f"no data item with id {data_id!r}")
    return renamed


def delete_data(ctx: DataContext, principal: Principal, organisation_id: str, data_id: str) -> Data:
    """Delete the data item, its files and their stored bytes (refused while a process uses it)."""
    _can_write(principal, organisation_id)
    data = _data(ctx, organisation_id, data_id)
    if not can_delete(ctx, data):
        raise Conflict("the data item is used by a process: delete or change the process first")
    # Records first: once they are gone nothing is billed or served, even if removing bytes fails.
    if not ctx.store.delete(organisation_id, data_id):
        raise NotFound(f"no data item with id {data_id!r}")
    ctx.storage.delete_prefix(data_prefix(organisation_id, data_id))
    return data


def copy_data(
    ctx: DataContext, principal: Principal, organisation_id: str, data_id: str, fields: Mapping[str, Any]
) -> Data:
    """A new uploaded data item named ``fields['name']`` holding copies of the item's files."""
    _can_write(principal, organisation_id)
    source = _data(ctx, organisation_id, data_id)
    name = check_data_name(fields.get("name"))
    _require_credits(ctx, organisation_id)
    files = ctx.store.files(organisation_id, data_id)
    if any(f.state is not FileState.ANALYSED for f in files):
        raise Conflict("the data item's files are still being uploaded or analysed: copy it afterwards")
    now = ctx.clock()
    copy = Data(id=new_id(), organisation_id=organisation_id, name=name, created_at=now, updated_at=now)
    mapping: dict[str, tuple[str, str]] = {}
    try:
        for f in files:
            new_file_id = new_id()
            key = file_key(organisation_id, copy.id, new_file_id, f.file_name)
            _copy_object(ctx.storage, f.object_key, key)
            mapping[f.id] = (new_file_id, key)
        ctx.store.copy(source, copy, mapping, now)
    except BaseException:
        ctx.storage.delete_prefix(data_prefix(organisation_id, copy.id))
        raise
    return _data(ctx, organisation_id, copy.id)


def _copy_object(storage: ObjectStore, source: str, target: str) -> None:
    with storage.open(source) as reader:
        chunks = iter(lambda: reader.read(_COPY_CHUNK), b"")
        storage.put_stream(target, chunks, max_bytes=1 << 62)


# -- files ----------------------------------------------------------------------------------------
def add_file(
    ctx: DataContext,
    principal: Principal,
    organisation_id: str,
    data_id: str,
    fields: Mapping[str, Any],
    base_url: str,
) -> tuple[Data, DataFile, str]:
    """Record a file awaiting its upload; the item, the file and a signed, expiring PUT URL."""
    _can_write(principal, organisation_id)
    data = _data(ctx, organisation_id, data_id)
    file_name = check_file_name(fields.get("name"))
    file_type = check_file_type(fields.get("file_type"))
    _require_credits(ctx, organisation_id)
    now = ctx.clock()
    file_id = new_id()
    added = ctx.store.add_file(
        DataFile(
            id=file_id,
            data_id=data.id,
            organisation_id=organisation_id,
            file_name=file_name,
            file_type=file_type,
            object_key=file_key(organisation_id, data.id, file_id, file_name),
            state=FileState.AWAITING_UPLOAD,
            created_at=now,
            updated_at=now,
        )
    )
    url = ctx.storage.signed_url(added.object_key, "PUT", UPLOAD_URL_TTL, base_url)
    return data, added, url


def list_files(
    ctx: DataContext, principal: Principal, organisation_id: str, data_id: str, query: ListQuery
) -> tuple[list[DataFile], dict[str, Any] | None]:
    """A page of the data item's files; starts (or restarts) analyses that are due."""
    _can_read(principal, organisation_id)
    _data(ctx, organisation_id, data_id)
    files, last = ctx.store.file_page(organisation_id, data_id, query)
    return [_nudge(ctx, f) for f in files], last


def download_url(
    ctx: DataContext,
    principal: Principal,
    organisation_id: str,
    data_id: str,
    file_id: str,
    preview: bool,
    base_url: str,
) -> tuple[DataFile, str]:
    """The file and a signed GET URL of its bytes, valid for an hour."""
    _can_read(principal, organisation_id)
    found = _file(ctx, organisation_id, data_id, file_id)
    if preview:
        raise NotFound("this file has no preview")
    if not ctx.storage.exists(found.object_key):
        raise NotFound("the file has not been uploaded yet")
    url = ctx.storage.signed_url(found.object_key, "GET", DOWNLOAD_URL_TTL, base_url)
    ctx.store.count_download(found.id)
    return replace(found, downloads=found.downloads + 1), url


# -- uploads and analysis -------------------------------------------------------------------------
def upload_starting(ctx: DataContext, key: str) -> None:
    """Refuse a signed PUT of a file's object unless the file still awaits its upload.

    Other keys are not the data use cases' business. Files are immutable once uploaded: the
    analysis describes the bytes it read.
    """
    ids = parse_file_key(key)
    if ids is None:
        return
    found = ctx.store.file(*ids)
    if found is None or found.object_key != key:
        raise NotFound("no file awaits this upload (its data item may have been deleted)")
    if found.state is not FileState.AWAITING_UPLOAD:
        raise Conflict("this file was already uploaded: add a new file to upload other content")


def upload_finished(ctx: DataContext, key: str, size: int) -> None:
    """A file's object was stored: record its size and start its analysis (once)."""
    ids = parse_file_key(key)
    if ids is None:
        return
    found = ctx.store.file(*ids)
    if found is None or found.object_key != key:
        # The data item was deleted while the bytes were arriving: nothing may keep them.
        ctx.storage.delete_prefix(key)
        return
    token = ctx.store.start_analysis(found.id, size, ctx.clock())
    if token is not None:
        _submit(ctx, found.id, token)


def _nudge(ctx: DataContext, found: DataFile) -> DataFile:
    """Start the analysis of an upload nobody reported, restart a lost one; the file as now."""
    now = ctx.clock()
    if found.state is FileState.AWAITING_UPLOAD:
        if not ctx.storage.exists(found.object_key):
            return found
        token = ctx.store.start_analysis(found.id, None, now)
        if token is not None:
            _submit(ctx, found.id, token)
    elif analysis_is_stale(found, now, ctx.lease):
        if found.analysis_attempts >= MAX_ANALYSIS_ATTEMPTS:
            lost = FileResult(
                size=found.stored_bytes or 0,
                publishable=False,
                error=ANALYSIS_LOST.format(n=found.analysis_attempts),
            )
            ctx.store.finish_analysis(found.id, found.analysis_token, lost, now)
        else:
            token = ctx.store.restart_analysis(found.id, found.analysis_token, now)
            if token is not None:
                log.warning("restarting the lost analysis of file %s", found.id)
                _submit(ctx, found.id, token)
    else:
        return found
    return ctx.store.file_by_id(found.id) or found


def _submit(ctx: DataContext, file_id: str, token: str) -> None:
    try:
        ctx.submit(run_file_analysis, file_id, token, ctx.settings_wire)
    except Exception:  # the run is restarted once its lease expires
        log.exception("could not submit the analysis of file %s", file_id)
