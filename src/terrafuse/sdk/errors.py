"""The SDK's exceptions: one tree, each class saying what went wrong and carrying the details.

::

    SDKError                          anything the SDK raises on purpose
    ├── RequestError                  the server answered with an error status
    │   ├── BadRequestError           400: invalid values (the server's message says which)
    │   ├── AuthenticationError       401: wrong credentials or an expired session
    │   ├── InsufficientCreditsError  402: the organisation lacks the credits
    │   ├── PermissionDeniedError     403: the account lacks the privilege
    │   ├── NotFoundError             404: no such object (or not yours to see)
    │   ├── ConflictError             409: the object's state forbids it (e.g. data in use)
    │   ├── PayloadTooLargeError      413: an upload beyond the server's limit
    │   ├── RateLimitedError          429: too many requests, even after waiting
    │   └── ServerError               5xx: the server failed
    ├── TransportError                the network failed, even after retrying
    ├── WaitTimeoutError              a wait reached its timeout (also a ``TimeoutError``)
    ├── ExecutionFailedError          an execution ended without success
    ├── JobFailedError                an OGC job ended failed or dismissed
    ├── AnalysisFailedError           the platform could not analyse an uploaded file
    ├── TransferError                 an upload or download failed (no half file is left behind)
    ├── MissingDependencyError        an optional package is needed (also an ``ImportError``)
    └── ModelError                    the call does not fit the object (also a ``ValueError``)
        └── ReadOnlyAttributeError    model attributes cannot be assigned (also an ``AttributeError``)

``RequestError.message`` is the server's own ``error_message``, unchanged.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AnalysisFailedError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "ExecutionFailedError",
    "InsufficientCreditsError",
    "JobFailedError",
    "MissingDependencyError",
    "ModelError",
    "NotFoundError",
    "PayloadTooLargeError",
    "PermissionDeniedError",
    "RateLimitedError",
    "ReadOnlyAttributeError",
    "RequestError",
    "SDKError",
    "ServerError",
    "TransferError",
    "TransportError",
    "WaitTimeoutError",
    "error_for_status",
]


class SDKError(Exception):
    """Base class of every error the SDK raises on purpose."""


class RequestError(SDKError):
    """The server refused a request or failed it.

    Attributes:
        status: the HTTP status code.
        message: the server's own explanation (its ``error_message`` or OGC ``detail``).
        method: the HTTP method of the request.
        url: the URL of the request (without query parameters, which may carry signatures).
    """

    def __init__(self, status: int, message: str, method: str = "", url: str = "") -> None:
        self.status = status
        self.message = message
        self.method = method
        self.url = url
        where = f" ({method} {url})" if method else ""
        super().__init__(f"{message} [HTTP {status}]{where}")


class BadRequestError(RequestError):
    """HTTP 400: the request's values are invalid; the message says which."""


class AuthenticationError(RequestError):
    """HTTP 401: wrong credentials, or the session ended (sessions last at most a day)."""


class InsufficientCreditsError(RequestError):
    """HTTP 402: the organisation does not have the credits for this."""


class PermissionDeniedError(RequestError):
    """HTTP 403: the account lacks the privilege, or a signed URL expired."""


class NotFoundError(RequestError):
    """HTTP 404: no such object, or one the account may not see."""


class ConflictError(RequestError):
    """HTTP 409: the object's state forbids the change (e.g. deleting data a process uses)."""


class PayloadTooLargeError(RequestError):
    """HTTP 413: the upload is larger than the server accepts."""


class RateLimitedError(RequestError):
    """HTTP 429: too many requests; the SDK already waited as the server asked and retried."""


class ServerError(RequestError):
    """HTTP 5xx: the server failed (retried first when the failure looked transient)."""


_BY_STATUS: dict[int, type[RequestError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    429: RateLimitedError,
}


def error_for_status(status: int, message: str, method: str = "", url: str = "") -> RequestError:
    """The most specific :class:`RequestError` for an HTTP status."""
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else RequestError)
    return cls(status, message, method, url)


class TransportError(SDKError):
    """The request did not get an answer (connection refused, reset, timed out), even after retries."""

    def __init__(self, message: str, method: str = "", url: str = "", attempts: int = 1) -> None:
        self.method = method
        self.url = url
        self.attempts = attempts
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        super().__init__(f"{message}{tries} ({method} {url})" if method else message)


class WaitTimeoutError(SDKError, TimeoutError):
    """A wait reached its timeout before the awaited state (the work itself carries on)."""

    def __init__(self, what: str, timeout: float) -> None:
        self.what = what
        self.timeout = timeout
        super().__init__(f"gave up waiting for {what} after {timeout:g} s")


class ExecutionFailedError(SDKError):
    """An execution ended without success.

    Attributes:
        execution_id: the failed execution's id.
        reason: the platform's explanation (the execution's ``abort_reason``).
        failures: every failed execution of the wait as ``(execution_id, reason)`` pairs.
    """

    def __init__(self, failures: list[tuple[str, str]]) -> None:
        self.failures = failures
        self.execution_id, self.reason = failures[0]
        more = f" (and {len(failures) - 1} more failed executions)" if len(failures) > 1 else ""
        super().__init__(f"execution {self.execution_id} failed: {self.reason}{more}")


class JobFailedError(SDKError):
    """An OGC API job ended ``failed`` or ``dismissed``; ``message`` is the server's explanation."""

    def __init__(self, job_id: str, status: str, message: str) -> None:
        self.job_id = job_id
        self.status = status
        self.message = message
        super().__init__(f"job {job_id} {status}: {message}")


class MissingDependencyError(SDKError, ImportError):
    """A feature needs an optional package that is not installed; the message says how to add it."""


class AnalysisFailedError(SDKError):
    """The platform could not analyse an uploaded file; ``message`` says why."""

    def __init__(self, file_name: str, message: str) -> None:
        self.file_name = file_name
        self.message = message
        super().__init__(f"the analysis of {file_name!r} failed: {message}")


class TransferError(SDKError):
    """An upload or download failed; ``path`` is the local file concerned.

    A failed download never leaves a partial file under its destination name.
    """

    def __init__(self, message: str, path: str, cause: BaseException | None = None) -> None:
        self.path = path
        self.cause = cause
        super().__init__(f"{message}: {path}" + (f" ({cause})" if cause else ""))


class ModelError(SDKError, ValueError):
    """The call does not fit the object: a wrong argument, or the object's state forbids it."""


class ReadOnlyAttributeError(ModelError, AttributeError):
    """Model attributes are read-only: use the object's ``update`` method to change them."""

    def __init__(self, cls: str, name: str, *args: Any) -> None:
        super().__init__(f"{cls}.{name} is read-only; use update({name}=...) to change it")
