"""The UK part of the demo catalog: what exists, under which names (no heavy imports).

The Fusion SDK guide's examples run over two regions shipped with the SDK: Glasgow (Quick
Example: elevation) and the Lake District National Park (Detailed Example: cloud classification
of the first Sentinel-2 scene from 2021-03-27 on). The demo catalog holds, for each region, three
synthetic Sentinel-2 L2A-like scenes in UTM zone 30N, and synthetic Copernicus-DEM-like tiles
covering both regions. This module names them; ``uk_world``, ``uk_fields``, ``uk_scenes`` and
``uk_dem`` generate them.
"""

from __future__ import annotations

from dataclasses import dataclass

S2_COLLECTION = "sentinel-2-l2a"
DEM_COLLECTION = "cop-dem-glo-90"
S2_BANDS: tuple[str, ...] = ("blue", "green", "red", "nir", "swir16")
DEM_ASSET = "data"
CLOUD_TRUTH_ASSET = "cloud-truth"
EPSG = 32630  # UTM zone 30N: both regions lie in it

# The cloud-truth classes (the same codes as ``terrafuse.algorithms.clouds``).
TRUTH_GROUND = 0
TRUTH_SHADOW = 1
TRUTH_THICK_CLOUD = 2
TRUTH_THIN_CLOUD = 3
TRUTH_NODATA = 255

# (west, south, east, north) in degrees: the bounds of the SDK's example GeoJSON files.
GLASGOW_BBOX: tuple[float, float, float, float] = (-4.4827, 55.7904, -4.0830, 55.9534)
LAKE_DISTRICT_BBOX: tuple[float, float, float, float] = (-3.50, 54.19, -2.58, 54.77)

DEM_NODATA = -32767.0
# Copernicus DEM GLO-90 spacing between 50 and 60 degrees north: 3" in latitude, 4.5" in longitude.
DEM_ROWS = 1200
DEM_COLUMNS = 800
# (south, west) corners of the 1 x 1 degree DEM tiles.
DEM_TILES: tuple[tuple[int, int], ...] = ((55, -5), (55, -4), (54, -4), (54, -3))


def dem_item_id(south: int, west: int) -> str:
    """Copernicus DEM item id of the tile whose south-west corner is (``south``, ``west``) degrees."""
    ns = f"N{south:02d}" if south >= 0 else f"S{-south:02d}"
    ew = f"E{west:03d}" if west >= 0 else f"W{-west:03d}"
    return f"Copernicus_DSM_COG_30_{ns}_00_{ew}_00_DEM"


DEM_ITEM_IDS: tuple[str, ...] = tuple(dem_item_id(south, west) for south, west in DEM_TILES)


@dataclass(frozen=True)
class UkRegion:
    """One example region: its bounds and the scenes' grid and tile."""

    name: str
    bbox: tuple[float, float, float, float]
    mgrs_tile: str  # Sentinel-2 tile code of the item ids
    margin_m: float  # the scenes cover the bbox plus this margin
    seed: int  # land cover of the region (shared by its dates)


@dataclass(frozen=True)
class UkScene:
    """One date of one region: acquisition, sun and cloud cover."""

    item_id: str
    region: str
    datetime: str
    platform: str
    seed: int  # clouds and sensor noise
    sun_azimuth: float
    sun_elevation: float
    season: str  # "spring" (March) or "summer" (June) vegetation
    thick_fraction: float  # share of the scene under thick cloud
    thin_fraction: float  # share under thin (semi-transparent) cloud sheets

    @property
    def date(self) -> str:
        """``YYYY-MM-DD``."""
        return self.datetime[:10]


GLASGOW = "glasgow"
LAKE_DISTRICT = "lake-district"
REGIONS: dict[str, UkRegion] = {
    GLASGOW: UkRegion(GLASGOW, GLASGOW_BBOX, "30UVG", 3000.0, 55_8604),
    LAKE_DISTRICT: UkRegion(LAKE_DISTRICT, LAKE_DISTRICT_BBOX, "30UVF", 3000.0, 54_4606),
}

# Sun angles are those of a 11:20 UTC overpass on each date (Sentinel-2's 10:30 local solar time).
SCENES: tuple[UkScene, ...] = (
    UkScene("S2B_30UVG_20210318_0_L2A", GLASGOW, "2021-03-18T11:23:12Z", "sentinel-2b", 55_210318,
            164.0, 32.4, "spring", 0.12, 0.12),
    UkScene("S2B_30UVG_20210328_0_L2A", GLASGOW, "2021-03-28T11:23:09Z", "sentinel-2b", 55_210328,
            165.0, 35.9, "spring", 0.13, 0.11),
    UkScene("S2A_30UVG_20220619_0_L2A", GLASGOW, "2022-06-19T11:21:31Z", "sentinel-2a", 55_220619,
            152.0, 56.1, "summer", 0.11, 0.12),
    UkScene("S2A_30UVF_20210323_0_L2A", LAKE_DISTRICT, "2021-03-23T11:22:55Z", "sentinel-2a", 54_210323,
            163.0, 35.3, "spring", 0.12, 0.11),
    UkScene("S2B_30UVF_20210328_0_L2A", LAKE_DISTRICT, "2021-03-28T11:23:03Z", "sentinel-2b", 54_210328,
            164.0, 37.3, "spring", 0.13, 0.12),
    UkScene("S2B_30UVF_20220614_0_L2A", LAKE_DISTRICT, "2022-06-14T11:21:41Z", "sentinel-2b", 54_220614,
            151.0, 57.0, "summer", 0.11, 0.12),
)  # fmt: skip
SCENES_BY_ID: dict[str, UkScene] = {scene.item_id: scene for scene in SCENES}

# Item ids in date order: (before 2021-03-27, 2021-03-28, latest).
GLASGOW_ITEM_IDS: tuple[str, str, str] = (
    "S2B_30UVG_20210318_0_L2A",
    "S2B_30UVG_20210328_0_L2A",
    "S2A_30UVG_20220619_0_L2A",
)
LAKE_DISTRICT_ITEM_IDS: tuple[str, str, str] = (
    "S2A_30UVF_20210323_0_L2A",
    "S2B_30UVF_20210328_0_L2A",
    "S2B_30UVF_20220614_0_L2A",
)
# region -> date (YYYY-MM-DD) -> item id
S2_ITEM_IDS: dict[str, dict[str, str]] = {
    region: {SCENES_BY_ID[i].date: i for i in ids}
    for region, ids in ((GLASGOW, GLASGOW_ITEM_IDS), (LAKE_DISTRICT, LAKE_DISTRICT_ITEM_IDS))
}
# The scene the Detailed Example classifies (first from 2021-03-27 on) and the latest ones.
LAKE_DISTRICT_DETAILED_EXAMPLE_ITEM_ID = LAKE_DISTRICT_ITEM_IDS[1]
LATEST_ITEM_IDS: dict[str, str] = {GLASGOW: GLASGOW_ITEM_IDS[-1], LAKE_DISTRICT: LAKE_DISTRICT_ITEM_IDS[-1]}

UK_ITEM_IDS: tuple[str, ...] = (*GLASGOW_ITEM_IDS, *LAKE_DISTRICT_ITEM_IDS, *DEM_ITEM_IDS)
