"""The platform's built-in region services: what users run over a region of interest.

Each service has a platform face (catalogue entry, options, price, chain of components) and is
also an OGC process. Their ``run`` records its work as components (ingestion → algorithm) through
the run context and returns references to the published Cloud-Optimized GeoTIFFs.

``AGGREGATOR`` is not in the catalogue: the platform adds it as the last execution of a sliced
group of a service whose face says ``aggregator=True``.
"""

from __future__ import annotations

from terrafuse.services.base import Service
from terrafuse.services.platform.aggregator import STATISTICS_AGGREGATOR
from terrafuse.services.platform.cloud_classification import CLOUD_CLASSIFICATION, CLOUD_CLASSIFICATION_V1
from terrafuse.services.platform.elevation import ELEVATION
from terrafuse.services.platform.ndvi import NDVI
from terrafuse.services.platform.water_bodies import WATER_BODIES_REGION

PLATFORM_SERVICES: tuple[Service, ...] = (
    ELEVATION,
    CLOUD_CLASSIFICATION,
    CLOUD_CLASSIFICATION_V1,
    NDVI,
    WATER_BODIES_REGION,
)
AGGREGATOR: Service = STATISTICS_AGGREGATOR

__all__ = ["AGGREGATOR", "PLATFORM_SERVICES"]
