"""The 1.1 guide's Quick Example (section 3), run by ``tests/guide`` with the Fusion SDK 1.1.4.

The steps and calls are the guide's, in order; only ``api_url`` is added to ``login`` (from the
command line), and the text-extraction typos of the guide are repaired (``fusion platform`` ->
``fusion_platform``, ``create data`` -> ``create_data``, ``FILE TYPE GEOJSON`` ->
``FILE_TYPE_GEOJSON``, ``EXAMPLE GLASGOW FILE`` -> ``EXAMPLE_GLASGOW_FILE``, ``new process`` ->
``new_process``, ``input number`` -> ``input_number``, ``component dir`` -> ``component_dir``).
"""

import os
import sys

import fusion_platform

API_URL = sys.argv[1]

user = fusion_platform.login(email="me@org.com", password="MyPassword123!", api_url=API_URL)
organisation = next(user.organisations)
glasgow = organisation.create_data(
    name="Glasgow",
    file_type=fusion_platform.FILE_TYPE_GEOJSON,
    files=[fusion_platform.EXAMPLE_GLASGOW_FILE],
    wait=True,
)
service, _ = organisation.find_services(keyword="Elevation")
process = organisation.new_process(name="Example", service=service)
process.update(input_number=1, data=glasgow)
process.create()
print(f"Price: {process.price}")
process.execute(wait=True)
execution = next(process.executions)
for component in execution.components:
    print(f"Downloading {component.name}")
    component_dir = component.name[:60]
    for i, output in enumerate(component.outputs):
        dir = os.path.join(component_dir, str(i))
        for file in output.files:
            file.download(path=os.path.join(dir, file.file_name))
process.delete()
glasgow.delete()
