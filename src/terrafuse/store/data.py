"""Data repository: data items and their files (the only place that knows their SQL).

Every read and write of a data item or file names the owning organisation, so another
organisation's ids find nothing, exactly like ids that do not exist.

The upload/analysis transitions are single conditional UPDATEs: ``awaiting_upload`` ->
``analysing`` happens once however many servers notice the upload; a result or heartbeat counts
only with the current ``analysis_token``, so a run that was given up for lost can never overwrite
the run that replaced it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from terrafuse.core.data import (
    MAX_FILES_PER_DATA,
    Data,
    DataFile,
    FileResult,
    FileState,
    union_bounds,
)
from terrafuse.core.listing import ListQuery
from terrafuse.errors import Conflict
from terrafuse.store.db import Database
from terrafuse.store.listing import ListSpec, fetch_page
from terrafuse.store.tables import DataFileRow, DataRow

_D = DataRow.__table__
_F = DataFileRow.__table__

DATA_LIST = ListSpec(
    filters={
        "id": _D.c.id,
        "name": _D.c.name,
        "created_at": _D.c.created_at,
        "updated_at": _D.c.updated_at,
    },
    search=(_D.c.name,),
    order=(("created_at", _D.c.created_at), ("id", _D.c.id)),
)
FILE_LIST = ListSpec(
    filters={
        "id": _F.c.id,
        "file_id": _F.c.id,
        "file_name": _F.c.file_name,
        "file_type": _F.c.file_type,
        "created_at": _F.c.created_at,
    },
    search=(_F.c.file_name,),
    order=(("created_at", _F.c.created_at), ("id", _F.c.id)),
)
# The analysis columns, copied as a block (e.g. by ``copy``).
_RESULT_COLUMNS = (
    "size",
    "publishable",
    "error",
    "detected_type",
    "crs",
    "bounds",
    "area",
    "length",
    "points",
    "lines",
    "polygons",
    "resolution",
    "selectors",
    "geojson",
    "csv_columns",
    "csv_rows",
    "valid",
    "notes",
)


def _result(row: Any) -> FileResult | None:
    if row.state != FileState.ANALYSED.value:
        return None
    return FileResult(
        size=row.size or 0,
        publishable=bool(row.publishable),
        error=row.error,
        detected_type=row.detected_type,
        crs=row.crs,
        bounds=tuple(row.bounds) if row.bounds else None,  # type: ignore[arg-type]
        area=row.area,
        length=row.length,
        points=row.points,
        lines=row.lines,
        polygons=row.polygons,
        resolution=row.resolution,
        selectors=tuple(row.selectors or ()),
        geojson=row.geojson,
        columns=tuple(row.csv_columns) if row.csv_columns is not None else None,
        rows=row.csv_rows,
        valid=row.valid,
        notes=tuple(row.notes or ()),
    )


def _file(row: Any) -> DataFile:
    return DataFile(
        id=row.id,
        data_id=row.data_id,
        organisation_id=row.organisation_id,
        file_name=row.file_name,
        file_type=row.file_type,
        object_key=row.object_key,
        state=FileState(row.state),
        created_at=row.created_at,
        updated_at=row.updated_at,
        stored_bytes=row.stored_bytes,
        downloads=row.downloads,
        analysis_token=row.analysis_token,
        analysis_heartbeat_at=row.analysis_heartbeat_at,
        analysis_attempts=row.analysis_attempts,
        result=_result(row),
    )


def _new_file_values(file: DataFile) -> dict[str, Any]:
    """The columns of a new file row (no downloads, no analysis attempts yet)."""
    return {
        "id": file.id,
        "data_id": file.data_id,
        "organisation_id": file.organisation_id,
        "file_name": file.file_name,
        "file_type": file.file_type,
        "object_key": file.object_key,
        "state": file.state.value,
        "created_at": file.created_at,
        "updated_at": file.updated_at,
        "downloads": 0,
        "analysis_attempts": 0,
    }


def _result_values(result: FileResult) -> dict[str, Any]:
    return {
        "size": result.size,
        "publishable": result.publishable,
        "error": result.error,
        "detected_type": result.detected_type,
        "crs": result.crs,
        "bounds": list(result.bounds) if result.bounds else None,
        "area": result.area,
        "length": result.length,
        "points": result.points,
        "lines": result.lines,
        "polygons": result.polygons,
        "resolution": result.resolution,
        "selectors": [dict(s) for s in result.selectors],
        "geojson": result.geojson,
        "csv_columns": list(result.columns) if result.columns is not None else None,
        "csv_rows": result.rows,
        "valid": result.valid,
        "notes": list(result.notes),
    }


class DataStore:
    """Reads and writes data items and their files."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- data items -----------------------------------------------------------------------
    def add(self, data: Data) -> Data:
        """Insert a new (empty) data item; ``Conflict`` if its id is taken."""
        try:
            with self.db.write_conn() as c:
                c.execute(
                    insert(_D).values(
                        id=data.id,
                        organisation_id=data.organisation_id,
                        name=data.name,
                        uploaded=data.uploaded,
                        created_at=data.created_at,
                        updated_at=data.updated_at,
                    )
                )
        except IntegrityError:
            raise Conflict(f"a data item with the id {data.id!r} already exists") from None
        return data

    def get(self, organisation_id: str, data_id: str) -> Data | None:
        """The organisation's data item (with the bounds of its files), if it exists."""
        with self.db.read_conn() as c:
            row = c.execute(
                select(_D).where(_D.c.id == data_id, _D.c.organisation_id == organisation_id)
            ).first()
            if row is None:
                return None
            return self._with_bounds(c, [row])[0]

    def page(
        self, organisation_id: str, query: ListQuery, uploaded_only: bool = True
    ) -> tuple[list[Data], dict[str, Any] | None]:
        """One page of the organisation's data items and the next page's cursor."""
        stmt = select(_D).where(_D.c.organisation_id == organisation_id)
        if uploaded_only:
            stmt = stmt.where(_D.c.uploaded.is_(True))
        with self.db.read_conn() as c:
            rows, last = fetch_page(c, stmt, query, DATA_LIST)
            return self._with_bounds(c, rows), last

    def data_ids(self, organisation_id: str) -> list[str]:
        """Ids of all the organisation's data items (uploaded or not), oldest first."""
        query = select(_D.c.id).where(_D.c.organisation_id == organisation_id)
        with self.db.read_conn() as c:
            return list(c.execute(query.order_by(_D.c.created_at, _D.c.id)).scalars())

    def rename(self, organisation_id: str, data_id: str, name: str, now: datetime) -> Data | None:
        """Set the name; the item afterwards (None if it is not the organisation's)."""
        with self.db.write_conn() as c:
            changed = c.execute(
                update(_D)
                .where(_D.c.id == data_id, _D.c.organisation_id == organisation_id)
                .values(name=name, updated_at=now)
            ).rowcount
        return self.get(organisation_id, data_id) if changed == 1 else None

    def delete(self, organisation_id: str, data_id: str) -> bool:
        """Delete the item and (by cascade) its file records; False if there was none."""
        with self.db.write_conn() as c:
            c.execute(delete(_F).where(_F.c.data_id == data_id, _F.c.organisation_id == organisation_id))
            gone = c.execute(
                delete(_D).where(_D.c.id == data_id, _D.c.organisation_id == organisation_id)
            ).rowcount
        return gone == 1

    def copy(self, source: Data, copy: Data, file_ids: dict[str, tuple[str, str]], now: datetime) -> None:
        """Insert ``copy`` with copies of ``source``'s files: ``file_ids`` maps each source file id
        to the (new id, new object key) whose bytes the caller already stored."""
        with self.db.write_conn() as c:
            c.execute(
                insert(_D).values(
                    id=copy.id,
                    organisation_id=copy.organisation_id,
                    name=copy.name,
                    uploaded=True,
                    created_at=copy.created_at,
                    updated_at=copy.updated_at,
                )
            )
            rows = c.execute(
                select(_F).where(_F.c.data_id == source.id, _F.c.organisation_id == source.organisation_id)
            ).all()
            for row in rows:
                if row.id not in file_ids:
                    continue
                new_id, new_key = file_ids[row.id]
                c.execute(
                    insert(_F).values(
                        id=new_id,
                        data_id=copy.id,
                        organisation_id=copy.organisation_id,
                        file_name=row.file_name,
                        file_type=row.file_type,
                        object_key=new_key,
                        state=row.state,
                        created_at=now,
                        updated_at=now,
                        stored_bytes=row.stored_bytes,
                        downloads=0,
                        analysis_attempts=row.analysis_attempts,
                        **{name: row._mapping[name] for name in _RESULT_COLUMNS},
                    )
                )

    def _with_bounds(self, c: Connection, rows: Sequence[Any]) -> list[Data]:
        """Data items with the union of their analysed files' bounds."""
        ids = [row.id for row in rows]
        boxes: dict[str, list[tuple[float, float, float, float]]] = {i: [] for i in ids}
        if ids:
            found = c.execute(
                select(_F.c.data_id, _F.c.bounds).where(
                    _F.c.data_id.in_(ids),
                    _F.c.state == FileState.ANALYSED.value,
                    _F.c.bounds.is_not(None),
                )
            ).all()
            for data_id, bounds in found:
                if bounds and len(bounds) == 4:
                    boxes[data_id].append(tuple(bounds))  # type: ignore[arg-type]
        return [
            Data(
                id=row.id,
                organisation_id=row.organisation_id,
                name=row.name,
                created_at=row.created_at,
                updated_at=row.updated_at,
                uploaded=row.uploaded,
                bounds=union_bounds(boxes[row.id]),
            )
            for row in rows
        ]

    def add_output(self, data: Data, file: DataFile, result: FileResult, execution_id: str) -> None:
        """Insert a component's output: a data item with one stored, analysed file, in one go."""
        with self.db.write_conn() as c:
            c.execute(
                insert(_D).values(
                    id=data.id,
                    organisation_id=data.organisation_id,
                    name=data.name,
                    uploaded=False,
                    execution_id=execution_id,
                    created_at=data.created_at,
                    updated_at=data.updated_at,
                )
            )
            c.execute(
                insert(_F).values(
                    **_new_file_values(file),
                    stored_bytes=file.stored_bytes,
                    **_result_values(result),
                )
            )

    def of_execution(self, execution_id: str) -> list[Data]:
        """The data items an execution's components produced."""
        with self.db.read_conn() as c:
            rows = c.execute(
                select(_D).where(_D.c.execution_id == execution_id).order_by(_D.c.created_at)
            ).all()
            return self._with_bounds(c, rows)

    # -- files ----------------------------------------------------------------------------
    def add_file(self, file: DataFile) -> DataFile:
        """Insert a new file (awaiting its upload); ``Conflict`` beyond the per-item limit."""
        with self.db.write_conn() as c:
            count = c.execute(
                select(func.count()).select_from(_F).where(_F.c.data_id == file.data_id)
            ).scalar_one()
            if count >= MAX_FILES_PER_DATA:
                raise Conflict(f"a data item holds at most {MAX_FILES_PER_DATA} files")
            c.execute(insert(_F).values(**_new_file_values(file)))
            c.execute(update(_D).where(_D.c.id == file.data_id).values(updated_at=file.created_at))
        return file

    def file(self, organisation_id: str, data_id: str, file_id: str) -> DataFile | None:
        """The file, if it belongs to this data item of this organisation."""
        with self.db.read_conn() as c:
            row = c.execute(
                select(_F).where(
                    _F.c.id == file_id, _F.c.data_id == data_id, _F.c.organisation_id == organisation_id
                )
            ).first()
        return _file(row) if row else None

    def file_by_id(self, file_id: str) -> DataFile | None:
        """A file by id alone (for the analysis task, which has no principal)."""
        with self.db.read_conn() as c:
            row = c.execute(select(_F).where(_F.c.id == file_id)).first()
        return _file(row) if row else None

    def files(self, organisation_id: str, data_id: str) -> list[DataFile]:
        """All of the data item's files, oldest first."""
        with self.db.read_conn() as c:
            rows = c.execute(
                select(_F)
                .where(_F.c.data_id == data_id, _F.c.organisation_id == organisation_id)
                .order_by(_F.c.created_at, _F.c.id)
            ).all()
        return [_file(r) for r in rows]

    def file_page(
        self, organisation_id: str, data_id: str, query: ListQuery
    ) -> tuple[list[DataFile], dict[str, Any] | None]:
        """One page of the data item's files and the next page's cursor."""
        stmt = select(_F).where(_F.c.data_id == data_id, _F.c.organisation_id == organisation_id)
        with self.db.read_conn() as c:
            rows, last = fetch_page(c, stmt, query, FILE_LIST)
        return [_file(r) for r in rows], last

    def count_download(self, file_id: str) -> None:
        """One more download URL handed out for the file."""
        with self.db.write_conn() as c:
            c.execute(update(_F).where(_F.c.id == file_id).values(downloads=_F.c.downloads + 1))

    def stored_bytes(self, organisation_id: str) -> int:
        """Bytes the organisation stores in files (what the daily storage charge bills)."""
        with self.db.read_conn() as c:
            total = c.execute(
                select(func.coalesce(func.sum(_F.c.stored_bytes), 0)).where(
                    _F.c.organisation_id == organisation_id
                )
            ).scalar_one()
        return int(total)

    # -- analysis transitions -------------------------------------------------------------
    def start_analysis(self, file_id: str, stored_bytes: int | None, now: datetime) -> str | None:
        """``awaiting_upload`` -> ``analysing``; the new token, or None if another caller won."""
        token = str(uuid.uuid4())
        values: dict[str, Any] = {
            "state": FileState.ANALYSING.value,
            "analysis_token": token,
            "analysis_heartbeat_at": now,
            "analysis_attempts": 1,
            "updated_at": now,
        }
        if stored_bytes is not None:
            values["stored_bytes"] = stored_bytes
        with self.db.write_conn() as c:
            won = c.execute(
                update(_F)
                .where(_F.c.id == file_id, _F.c.state == FileState.AWAITING_UPLOAD.value)
                .values(**values)
            ).rowcount
        return token if won == 1 else None

    def restart_analysis(self, file_id: str, old_token: str | None, now: datetime) -> str | None:
        """Hand a lost run's file to a new run; the new token, or None if someone else did."""
        token = str(uuid.uuid4())
        with self.db.write_conn() as c:
            won = c.execute(
                update(_F)
                .where(
                    _F.c.id == file_id,
                    _F.c.state == FileState.ANALYSING.value,
                    _token_is(old_token),
                )
                .values(
                    analysis_token=token,
                    analysis_heartbeat_at=now,
                    analysis_attempts=_F.c.analysis_attempts + 1,
                    updated_at=now,
                )
            ).rowcount
        return token if won == 1 else None

    def heartbeat(self, file_id: str, token: str, now: datetime) -> bool:
        """Keep the run's lease; False once the run no longer holds the file."""
        with self.db.write_conn() as c:
            alive = c.execute(
                update(_F)
                .where(
                    _F.c.id == file_id,
                    _F.c.state == FileState.ANALYSING.value,
                    _F.c.analysis_token == token,
                )
                .values(analysis_heartbeat_at=now)
            ).rowcount
        return alive == 1

    def finish_analysis(self, file_id: str, token: str | None, result: FileResult, now: datetime) -> bool:
        """Record the result of the run holding ``token``; False (nothing written) otherwise."""
        with self.db.write_conn() as c:
            done = c.execute(
                update(_F)
                .where(
                    _F.c.id == file_id,
                    _F.c.state == FileState.ANALYSING.value,
                    _token_is(token),
                )
                .values(
                    state=FileState.ANALYSED.value,
                    analysis_token=None,
                    analysis_heartbeat_at=None,
                    stored_bytes=result.size,
                    updated_at=now,
                    **_result_values(result),
                )
            ).rowcount
        return done == 1


def _token_is(token: str | None) -> Any:
    return _F.c.analysis_token.is_(None) if token is None else _F.c.analysis_token == token
