"""The service catalogue: an explicit registry object (no import-time globals)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from terrafuse.errors import NoSuchService
from terrafuse.services.base import Service


class ServiceRegistry:
    """Services by id, in registration order. Registering an id twice is an error.

    Internal services (the statistics aggregator of sliced runs) run as parts of other work: they
    are not listed and cannot be asked for by clients, only :meth:`resolve` finds them.
    """

    def __init__(self, services: Iterable[Service] = (), internal: Iterable[Service] = ()) -> None:
        self._services: dict[str, Service] = {}
        self._internal: dict[str, Service] = {}
        for service in services:
            self.register(service)
        for service in internal:
            self.register(service, internal=True)

    def register(self, service: Service, internal: bool = False) -> None:
        """Add a service; refuses to silently replace one with the same id."""
        sid = service.description.id
        if sid in self._services or sid in self._internal:
            raise ValueError(f"service {sid!r} is already registered")
        (self._internal if internal else self._services)[sid] = service

    def get(self, service_id: str) -> Service:
        """The public service with this id (raises ``NoSuchService``)."""
        try:
            return self._services[service_id]
        except KeyError:
            raise NoSuchService(f"no process with id {service_id!r}") from None

    def resolve(self, service_id: str) -> Service:
        """The service with this id, internal ones included (for running executions)."""
        found = self._internal.get(service_id)
        return found if found is not None else self.get(service_id)

    def __iter__(self) -> Iterator[Service]:
        return iter(self._services.values())

    def __len__(self) -> int:
        return len(self._services)


def builtin_registry() -> ServiceRegistry:
    """The services shipped with terrafuse."""
    from terrafuse.services.echo import ECHO
    from terrafuse.services.platform import AGGREGATOR, PLATFORM_SERVICES
    from terrafuse.services.water_bodies import WATER_BODIES

    return ServiceRegistry([WATER_BODIES, ECHO, *PLATFORM_SERVICES], internal=[AGGREGATOR])
