"""The service catalogue as the platform API shows it: services users run over a region.

One registry serves both APIs; the platform catalogue lists the services that have a platform
face (``ServiceDescription.platform``). The catalogue is small and lives in code, so lists are
filtered and paged in Python with the same semantics as the database lists (case-sensitive
filters, case-insensitive search, key-set pages over ``(name, id)``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from terrafuse.core.accounts import Principal, Privilege
from terrafuse.core.catalogue import Documentation, PlatformFace, Price
from terrafuse.core.listing import Filter, ListQuery, Modifier
from terrafuse.errors import InvalidParameter, NotFound
from terrafuse.services.base import Service
from terrafuse.services.registry import ServiceRegistry
from terrafuse.usecases.accounts import require

SERVICE_FILTERS = frozenset({"id", "ssd_id", "name", "keywords", "categories", "version"})
SERVICE_CURSOR = ("name", "id")


def face(service: Service) -> PlatformFace:
    """The platform face of a service.

    Services outside the platform catalogue (OGC-only ones, such as the STAC-based water-bodies)
    get a plain face: no file inputs, no options, free, one component. It is what the platform
    API shows of the processes that OGC executes of them create.
    """
    found = service.description.platform
    if found is not None:
        return found
    desc = service.description
    return PlatformFace(
        key=desc.id,
        name=desc.title,
        version=desc.version,
        categories=(),
        keywords=tuple(desc.keywords),
        documentation=Documentation(summary=desc.title, description=desc.description),
        inputs=(),
        options=(),
        price=Price(),
        chain=(desc.title,),
    )


def catalogue(registry: ServiceRegistry) -> list[Service]:
    """The services of the platform catalogue, by name."""
    services = [s for s in registry if s.description.platform is not None]
    return sorted(services, key=lambda s: (face(s).name, face(s).service_id))


def find_service(registry: ServiceRegistry, service_id: str) -> Service:
    """The catalogue service with this id (a version's id, or its ssd_id: the latest version)."""
    for service in catalogue(registry):
        f = face(service)
        if service_id in (f.service_id, f.ssd_id):
            return service
    raise NotFound(f"no service with id {service_id!r}")


def service_by_key(registry: ServiceRegistry, key: str) -> Service | None:
    """The catalogue service with this key (its OGC process id), if any."""
    return next((s for s in catalogue(registry) if face(s).key == key), None)


def list_services(
    registry: ServiceRegistry, principal: Principal, organisation_id: str, query: ListQuery
) -> tuple[list[Service], dict[str, Any] | None]:
    """A page of the catalogue as the organisation sees it, and the next page's cursor."""
    require(principal, organisation_id, Privilege.VIEW)
    rows = [s for s in catalogue(registry) if all(_matches(face(s), f) for f in query.filters)]
    if query.search:
        term = query.search.lower()
        rows = [s for s in rows if term in _search_text(face(s))]
    rows.sort(key=lambda s: (face(s).name, face(s).service_id), reverse=query.reverse)
    if query.last:
        key = (query.last.get("name", ""), query.last.get("id", ""))
        after: Callable[[tuple[str, str]], bool] = (
            (lambda k: k < key) if query.reverse else (lambda k: k > key)
        )
        rows = [s for s in rows if after((face(s).name, face(s).service_id))]
    page = rows[: query.limit]
    last = None
    if len(rows) > query.limit:
        tail = face(page[-1])
        last = {"name": tail.name, "id": tail.service_id}
    return page, last


def own_services(principal: Principal, organisation_id: str) -> list[Service]:
    """Services the organisation owns (organisations cannot deploy platform services yet: none)."""
    require(principal, organisation_id, Privilege.VIEW)
    return []


def dispatcher_services(principal: Principal, organisation_id: str) -> list[Service]:
    """Dispatcher services (terrafuse has none: results are fetched, not pushed)."""
    require(principal, organisation_id, Privilege.VIEW)
    return []


def get_service(
    registry: ServiceRegistry, principal: Principal, organisation_id: str, service_id: str
) -> Service:
    """One catalogue service, seen from an organisation the caller belongs to."""
    require(principal, organisation_id, Privilege.VIEW)
    return find_service(registry, service_id)


def _search_text(f: PlatformFace) -> str:
    parts: Iterable[str] = (f.name, *f.aliases, *f.keywords, *f.categories, f.documentation.summary)
    return "\n".join(parts).lower()


def _field_values(f: PlatformFace, name: str) -> list[str]:
    if name == "id":
        return [f.service_id]
    if name == "ssd_id":
        return [f.ssd_id]
    if name == "name":
        return [f.name, *f.aliases]  # earlier names find the service too
    if name == "version":
        return [f.version]
    if name == "keywords":
        return list(f.keywords)
    if name == "categories":
        return list(f.categories)
    raise InvalidParameter(f"cannot filter services on {name!r}")


def _matches(f: PlatformFace, flt: Filter) -> bool:
    values = _field_values(f, flt.field)
    listed = flt.field in ("keywords", "categories")
    wanted = flt.values[0] if flt.values else ""
    m = flt.modifier
    if m is Modifier.EQ:
        return wanted in values
    if m is Modifier.NE:
        return wanted not in values
    if m is Modifier.BEGINS_WITH:
        return any(v.startswith(wanted) for v in values)
    if m is Modifier.CONTAINS:
        return wanted in values if listed else any(wanted in v for v in values)
    if m is Modifier.NOT_CONTAINS:
        return wanted not in values if listed else not any(wanted in v for v in values)
    if m is Modifier.IN:
        return any(v in flt.values for v in values)
    if m is Modifier.NULL:
        return not values
    if m is Modifier.NOT_NULL:
        return bool(values)
    if m is Modifier.BETWEEN:
        return any(flt.values[0] <= v <= flt.values[1] for v in values)
    compare = {
        Modifier.LT: lambda v: v < wanted,
        Modifier.LE: lambda v: v <= wanted,
        Modifier.GT: lambda v: v > wanted,
        Modifier.GE: lambda v: v >= wanted,
    }[m]
    return any(compare(v) for v in values)
