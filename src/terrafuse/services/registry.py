"""The service catalogue: an explicit registry object (no import-time globals)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from terrafuse.errors import NoSuchService
from terrafuse.services.base import Service


class ServiceRegistry:
    """Services by id, in registration order. Registering an id twice is an error."""

    def __init__(self, services: Iterable[Service] = ()) -> None:
        self._services: dict[str, Service] = {}
        for service in services:
            self.register(service)

    def register(self, service: Service) -> None:
        """Add a service; refuses to silently replace one with the same id."""
        sid = service.description.id
        if sid in self._services:
            raise ValueError(f"service {sid!r} is already registered")
        self._services[sid] = service

    def get(self, service_id: str) -> Service:
        """The service with this id (raises ``NoSuchService``)."""
        try:
            return self._services[service_id]
        except KeyError:
            raise NoSuchService(f"no process with id {service_id!r}") from None

    def __iter__(self) -> Iterator[Service]:
        return iter(self._services.values())

    def __len__(self) -> int:
        return len(self._services)


def builtin_registry() -> ServiceRegistry:
    """The services shipped with terrafuse."""
    from terrafuse.services.echo import ECHO
    from terrafuse.services.water_bodies import WATER_BODIES

    return ServiceRegistry([WATER_BODIES, ECHO])
