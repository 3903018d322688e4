"""Time for the SDK: a replaceable clock, deadlines, retry back-off and polling intervals.

Everything that waits goes through a :class:`Clock`, so tests pass a fake one and never sleep.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from terrafuse.sdk.errors import WaitTimeoutError

__all__ = ["Clock", "Deadline", "Poller", "RetryPolicy", "SystemClock", "poll_until"]

T = TypeVar("T")


class Clock(Protocol):
    """Where the SDK reads the time and sleeps."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds``."""
        ...

    def wait_event(self, event: threading.Event, seconds: float) -> bool:
        """Block until ``event`` is set or ``seconds`` pass; whether it is set."""
        ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """``time.sleep(seconds)`` (nothing for zero or less)."""
        if seconds > 0:
            time.sleep(seconds)

    def wait_event(self, event: threading.Event, seconds: float) -> bool:
        """``event.wait(seconds)``."""
        return event.wait(max(seconds, 0.0))


class Deadline:
    """The end of a wait: ``timeout`` seconds from now on ``clock``."""

    def __init__(self, clock: Clock, timeout: float, what: str) -> None:
        if timeout < 0:
            raise ValueError(f"timeout must not be negative, not {timeout}")
        self.clock = clock
        self.timeout = timeout
        self.what = what
        self.end = clock.monotonic() + timeout

    def remaining(self) -> float:
        """Seconds left (never below zero)."""
        return max(0.0, self.end - self.clock.monotonic())

    def expired(self) -> bool:
        """Whether the time is up."""
        return self.clock.monotonic() >= self.end

    def error(self) -> WaitTimeoutError:
        """The error to raise when the time is up."""
        return WaitTimeoutError(self.what, self.timeout)


@dataclass
class RetryPolicy:
    """How transient failures are retried: ``attempts`` tries in all, exponential back-off.

    The n-th retry waits ``min(cap, base * 2**(n-1))`` seconds, scaled by a random factor in
    [0.5, 1] when ``jitter`` is on, so many clients failing together do not retry in step.
    """

    attempts: int = 5
    base: float = 0.5
    cap: float = 8.0
    jitter: bool = True
    _random: random.Random = field(default_factory=random.Random, repr=False)

    def delay(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (1 for the first retry)."""
        delay = float(min(self.cap, self.base * 2.0 ** (retry - 1)))
        return delay * float(self._random.uniform(0.5, 1.0)) if self.jitter else delay


class Poller:
    """Polling intervals that start short and grow to ``interval``.

    Short jobs are seen finishing at once; long ones are asked about every ``interval`` seconds.
    """

    def __init__(self, interval: float, first: float = 0.5, factor: float = 1.5) -> None:
        self.interval = interval
        self._next = min(first, interval)
        self.factor = factor

    def next(self) -> float:
        """The next pause."""
        pause = self._next
        self._next = min(self.interval, self._next * self.factor)
        return pause


def poll_until(
    check: Callable[[], T | None],
    clock: Clock,
    deadline: Deadline,
    interval: float,
) -> T:
    """Call ``check`` until it returns something other than None; that value.

    Raises :class:`~terrafuse.sdk.errors.WaitTimeoutError` when ``deadline`` passes first. The
    last pause is cut short so the final check happens at the deadline, not after it.
    """
    poller = Poller(interval)
    while True:
        value = check()
        if value is not None:
            return value
        if deadline.expired():
            raise deadline.error()
        clock.sleep(min(poller.next(), max(deadline.remaining(), 0.0)))
