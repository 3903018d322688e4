"""Domain errors: a stable code and a user-safe message. They know nothing of HTTP.

The API maps each class to an HTTP status and wire format in one table
(``terrafuse.api.errors``). ``detail`` is safe to show to users; never put tracebacks or
secrets in it.
"""

from __future__ import annotations


class TerrafuseError(Exception):
    """Base class of every error the platform raises on purpose."""

    code = "error"

    def __init__(self, detail: str, code: str | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code


class NotFound(TerrafuseError):
    """A resource does not exist (or is not visible to the caller)."""

    code = "not-found"


class NoSuchService(NotFound):
    """Unknown service (OGC: no-such-process)."""

    code = "no-such-process"


class NoSuchExecution(NotFound):
    """Unknown execution (OGC: no-such-job)."""

    code = "no-such-job"


class NoSuchNamespace(NotFound):
    """Unknown organisation namespace."""

    code = "no-such-namespace"


class ResultNotReady(TerrafuseError):
    """Results were asked for before the execution finished."""

    code = "result-not-ready"


class InvalidInput(TerrafuseError):
    """A request's inputs or parameters are not valid."""

    code = "invalid-input"


class InvalidParameter(InvalidInput):
    """A query parameter has an invalid value."""

    code = "invalid-query-parameter-value"


class PayloadTooLarge(InvalidInput):
    """A request body or upload exceeds its limit."""

    code = "payload-too-large"


class Unauthorized(TerrafuseError):
    """No or bad credentials."""

    code = "unauthorized"


class Forbidden(TerrafuseError):
    """Credentials are fine but the action is not allowed."""

    code = "forbidden"


class TooManyRequests(Forbidden):
    """Too many failed attempts (login throttling); ``retry_after`` says when to try again (s)."""

    code = "too-many-requests"

    def __init__(self, detail: str, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class InsufficientCredits(Forbidden):
    """The organisation has too few credits for the work asked for."""

    code = "insufficient-credits"


class Conflict(TerrafuseError):
    """The request conflicts with the resource's state."""

    code = "conflict"


class ExecutionFailed(TerrafuseError):
    """An execution ended in failure; ``detail`` says why in user terms."""

    code = "execution-failed"


class ExecutionCancelled(TerrafuseError):
    """Raised inside running work when its execution was dismissed."""

    code = "dismissed"


class DataUnavailable(ExecutionFailed):
    """Input data could not be found or read (unreachable URL, not STAC, missing band)."""

    code = "data-unavailable"
