"""The 1.1 guide's Detailed Example (section 10), run by ``tests/guide`` with the Fusion SDK 1.1.4.

The steps and calls are the guide's, in order; only ``api_url`` is added to ``login`` (from the
command line), and the text-extraction typos are repaired: lost underscores (``fusion platform``,
``create data``, ``lake district``, ``find services``, ``new process``, ``input number``,
``option name``, ``latest date``, ``start date``, ``end date``, ``file name``, ``download
complete``, ``mosaic meta``), ``service, = ...`` -> ``service, _ = ...``, and the histogram's
starting list, which lost one of its ten zeros (the guide indexes bin 9).
"""

import os  # noqa: F401  (the guide imports it)
import sys
from datetime import datetime, timezone

import matplotlib.pyplot as pyplot
import rasterio
from rasterio.merge import merge

import fusion_platform

API_URL = sys.argv[1]

user = fusion_platform.login(email="me@org.com", password="MyPassword123!", api_url=API_URL)
organisation = next(user.organisations)
lake_district = organisation.create_data(
    name="Lake District National Park",
    file_type=fusion_platform.FILE_TYPE_GEOJSON,
    files=[fusion_platform.EXAMPLE_LAKE_DISTRICT_FILE],
    wait=True,
)
service, _ = organisation.find_services(name="Demo: Cloud Classification")
process = organisation.new_process(name="Example", service=service)
process.update(input_number=1, data=lake_district)
process.update(option_name="latest_date", value=False)
process.update(option_name="start_date", value=datetime(2021, 3, 27, tzinfo=timezone.utc))
process.update(option_name="end_date", value=None)
process.create()
print(f"Price: {process.price}")
process.execute(wait=True)
execution = next(process.executions)
_, executions = process.find_executions(group_id=execution.group_id)
files = []
selectors = []
paths = []
for i, execution in enumerate(executions):
    for component in execution.components:
        if component.name == "Demo: Cloud Classification":
            print(f"Downloading {component.id}")
            output = next(component.outputs)
            file = next(output.files)
            files.append(file)
            paths.append(f"{i} {file.file_name}")
            file.download(path=paths[-1])
            selectors.append(file.selectors[0])
for file in files:
    file.download_complete(wait=True)
rasters = []
for path in paths:
    rasters.append(rasterio.open(path))
mosaic, transform = merge(rasters)
mosaic_meta = rasters[0].meta.copy()
mosaic_meta.update({"height": mosaic.shape[1], "width": mosaic.shape[2], "transform": transform})
with rasterio.open("mosaic.tif", "w", **mosaic_meta) as merged:
    merged.write(mosaic)
with rasterio.open("mosaic.tif", "r") as source:
    pyplot.imshow(source.read(1, masked=True), cmap="coolwarm")
    pyplot.show()
histogram = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
for metadata in selectors:
    histogram = [first + second for first, second in zip(histogram, metadata["histogram"])]
x = ["Ground", "Shadow", "Thick Cloud", "Thin Cloud"]
y = [histogram[0], histogram[3], histogram[6], histogram[9]]
pyplot.bar(x, y)
pyplot.show()
process.delete()
lake_district.delete()
