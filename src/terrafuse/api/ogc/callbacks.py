"""Subscriber callbacks (OGC ``callback`` class): POSTs to the URLs an execute request gave.

``inProgressUri`` gets the statusInfo when the job starts, ``successUri`` the results
document, ``failedUri`` an exception document with the job's id and reason.
"""

from __future__ import annotations

import logging

import requests

from terrafuse.api.errors import classify
from terrafuse.api.ogc import documents as docs
from terrafuse.core.executions import Execution, ExecutionStatus
from terrafuse.engine.runner import Runtime
from terrafuse.errors import ExecutionFailed

log = logging.getLogger(__name__)


class OgcCallbacks:
    """A :class:`terrafuse.engine.base.Notifier` that calls subscriber URLs."""

    def __init__(self, rt: Runtime, public_url: str) -> None:
        self.rt = rt
        self.public_url = public_url.rstrip("/")
        self._http = requests.Session()

    def execution_changed(self, execution: Execution) -> None:
        """Send the callback matching the execution's new status, if one was asked for."""
        if execution.request.subscriber is None:
            return  # the common case: no database read at all
        execution = self.rt.executions.get(execution.id)
        if execution is None or execution.request.subscriber is None:
            return
        sub = execution.request.subscriber
        org = self.rt.organisations.by_id(execution.organisation_id)
        if org is None:
            return
        root = f"{self.public_url}/{org.namespace}/ogc-api"
        if execution.status is ExecutionStatus.RUNNING and sub.in_progress_uri:
            self._post(sub.in_progress_uri, docs.status_info(root, execution))
        elif execution.status is ExecutionStatus.SUCCESSFUL and sub.success_uri:
            desc = self.rt.registry.resolve(execution.service_id).description
            ttl = self.rt.settings.result_url_ttl

            def url_for(key: str) -> str:
                return self.rt.storage.signed_url(key, "GET", ttl, self.public_url)

            self._post(sub.success_uri, docs.results_document(root, execution, desc, url_for))
        elif execution.status is ExecutionStatus.FAILED and sub.failed_uri:
            # The same exception as GET /jobs/{id}/results answers for this job.
            failure = ExecutionFailed(execution.message or "the job failed", code=execution.error_code)
            status, type_, title = classify(failure)
            instance = f"{root}/jobs/{execution.id}"
            body = docs.exception(type_, title, status, failure.detail, instance=instance)
            body["jobID"] = execution.id
            self._post(sub.failed_uri, body)

    def _post(self, url: str, body: dict) -> None:
        try:
            response = self._http.post(url, json=body, timeout=self.rt.settings.callback_timeout)
            if response.status_code >= 400:
                log.warning("callback %s answered %s", url, response.status_code)
        except requests.RequestException as exc:
            log.warning("callback %s failed: %s", url, exc)
