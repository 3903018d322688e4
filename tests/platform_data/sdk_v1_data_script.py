"""Run by the Fusion SDK 1.1.4 in its own virtual environment: data uploads, find, rename, download.

Usage: python sdk_v1_data_script.py <api_url> <email> <password> <downloads folder> <uploads.json>,
where ``uploads.json`` is a list of ``[file_type, path]`` pairs (``"glasgow"`` and
``"lake_district"`` stand for the SDK's packaged example files). For each upload the script creates
a data object with ``create_data(name, file_type, [path], wait=True)``, finds it by id and by name,
renames it, downloads its file, deletes it and checks it is gone. Prints one JSON object of what the
SDK saw. Imports nothing of terrafuse or of the tests: it is the published client, unchanged.
"""

import json
import os
import sys
import uuid

import fusion_platform

api_url, email, password, downloads = sys.argv[1:5]
with open(sys.argv[5], encoding="utf-8") as handle:
    uploads = json.load(handle)
examples = {
    "glasgow": fusion_platform.EXAMPLE_GLASGOW_FILE,
    "lake_district": fusion_platform.EXAMPLE_LAKE_DISTRICT_FILE,
}


def _number(value):
    return None if value is None else float(value)


def _bytes(path):
    with open(path, "rb") as handle:
        return handle.read()


user = fusion_platform.login(email=email, password=password, api_url=api_url)
organisation = next(iter(user.organisations))
seen = {"version": fusion_platform.__version__, "organisation": organisation.name, "uploads": []}

for index, (file_type, path) in enumerate(uploads):
    path = examples.get(path, path)
    name = f"SDK1 {index} {os.path.basename(path)}"
    data = organisation.create_data(name, file_type, [path], wait=True)
    files = list(data.files)
    record = {
        "file_type": file_type,
        "path": path,
        "data_id": str(data.id),
        "name": data.name,
        "analysed": data.check_analysis_complete(),
        "files": len(files),
    }
    file = files[0]
    record.update(
        file_name=file.file_name,
        file_type_seen=file.file_type,
        size=file.size,
        publishable=file.publishable,
        error=file.error,
        crs=file.crs,
        bounds=None if file.bounds is None else [float(b) for b in file.bounds],
        area=_number(file.area),
        resolution=file.resolution,
        selectors=len(file.selectors or []),
    )

    by_id, _ = organisation.find_data(id=data.id)
    by_name, matches = organisation.find_data(name=name)
    record["found_by_id"] = None if by_id is None else str(by_id.id)
    record["found_by_name"] = None if by_name is None else str(by_name.id)
    record["name_matches"] = [str(d.id) for d in matches]
    record["listed"] = str(data.id) in {str(d.id) for d in organisation.data}

    renamed = f"SDK1 renamed {index}"
    data.update(name=renamed)
    record["renamed"] = data.name
    again, _ = organisation.find_data(id=data.id)
    record["renamed_reloaded"] = None if again is None else again.name
    record["old_name_found"] = organisation.find_data(name=name)[0] is not None

    target = os.path.join(downloads, f"{uuid.uuid4()}-{os.path.basename(path)}")
    file.download(target, wait=True)
    record["downloaded_size"] = os.path.getsize(target)
    record["bytes_identical"] = _bytes(target) == _bytes(path)

    data.delete()
    record["found_after_delete"] = organisation.find_data(id=data.id)[0] is not None
    seen["uploads"].append(record)

seen["left"] = [d.name for d in organisation.data if d.name.startswith("SDK1 ")]
print(json.dumps(seen))
