"""The Dask executor: a LocalCluster started here, or an existing scheduler."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

import dask
from distributed import Client, Future, LocalCluster, wait

from terrafuse.config import Settings
from terrafuse.engine.worker import prepare_worker, run_execution

log = logging.getLogger(__name__)


class DaskExecutor:
    """Submits ``run_execution(id, settings)`` tasks to a Dask cluster."""

    def __init__(self, settings: Settings) -> None:
        self._wire = settings.to_wire()
        self.cluster: LocalCluster | None = None
        if settings.dask_scheduler:
            self.client = Client(settings.dask_scheduler, set_as_default=False, timeout=30)
        else:
            # Dask makes its workers return freed memory to the OS at once (MALLOC_TRIM_THRESHOLD_
            # =65536). That turns every large numpy allocation into fresh mmap'd pages: the
            # water-bodies job ran ~35 % slower with it. Our services work in bounded blocks,
            # so keep glibc's default.
            with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
                self.cluster = self._local_cluster(settings)
            self.client = Client(self.cluster, set_as_default=False)
        self._futures: dict[str, Future] = {}
        self._tasks: dict[str, Future] = {}
        self._lock = threading.Lock()
        threading.Thread(target=self._warm_up, name="dask-warm-up", daemon=True).start()

    def _warm_up(self) -> None:
        try:
            self.client.run(prepare_worker, self._wire)
        except Exception:  # a cold worker is slower, not broken
            log.warning("could not prepare the Dask workers", exc_info=True)

    @staticmethod
    def _local_cluster(settings: Settings) -> LocalCluster:
        return LocalCluster(
            n_workers=settings.dask_workers,
            threads_per_worker=settings.dask_threads_per_worker,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.WARNING,
            # Spill and lock files stay inside the data folder, not a shared /tmp folder.
            local_directory=str(settings.data_dir / "dask"),
        )

    @property
    def owns_cluster(self) -> bool:
        """Whether the cluster was started by this executor (so it dies with this process)."""
        return self.cluster is not None

    @property
    def address(self) -> str:
        """The scheduler address."""
        return str(self.client.scheduler.address)

    def submit(self, execution_id: str) -> None:
        """Queue ``run_execution`` for the id."""
        future = self.client.submit(
            run_execution,
            execution_id,
            self._wire,
            key=f"execution-{execution_id}-{uuid.uuid4().hex[:8]}",
            pure=False,
        )
        with self._lock:
            # Holding the future keeps the task alive; it is dropped once done.
            self._futures[execution_id] = future
        future.add_done_callback(lambda f, eid=execution_id: self._forget(eid, f))

    def _forget(self, execution_id: str, future: Future) -> None:
        with self._lock:
            if self._futures.get(execution_id) is future:
                del self._futures[execution_id]
        if future.status == "error":
            # run_execution settles service errors itself; this is an infrastructure failure.
            log.error("task of execution %s failed: %r", execution_id, future.exception())

    def submit_task(self, fn: Callable[..., Any], *args: Any, key: str = "task") -> None:
        """Run ``fn(*args)`` on a worker and forget about it (it records its own outcome).

        ``fn`` must be a module-level function and ``args`` plain data (ids, settings), never a
        closure or a live connection.
        """
        future = self.client.submit(fn, *args, key=f"{key}-{uuid.uuid4().hex}", pure=False)
        with self._lock:
            self._tasks[future.key] = future  # holding the future keeps the task alive
        future.add_done_callback(self._task_done)

    def _task_done(self, future: Future) -> None:
        with self._lock:
            self._tasks.pop(future.key, None)
        if future.status == "error":
            log.error("task %s failed: %r", future.key, future.exception())

    def in_flight(self, execution_id: str) -> bool:
        """Whether this executor has a live task for the execution."""
        with self._lock:
            return execution_id in self._futures

    def wait(self, execution_id: str, timeout: float) -> bool:
        """Block until the execution's task is done (True) or the timeout passes (False)."""
        with self._lock:
            future = self._futures.get(execution_id)
        if future is None:
            return True
        try:
            # wait() looks up the default client; ours is deliberately not the default.
            with self.client.as_current():
                wait(future, timeout=timeout)
        except TimeoutError:
            return False
        return True

    def cancel(self, execution_id: str) -> None:
        """Cancel the task if it has not started."""
        with self._lock:
            future = self._futures.pop(execution_id, None)
        if future is not None:
            future.cancel()

    def info(self) -> dict[str, Any]:
        """Scheduler address and worker count (for the start-up banner)."""
        workers = self.client.scheduler_info().get("workers", {})
        return {"scheduler": self.address, "workers": len(workers), "local": self.owns_cluster}

    def close(self) -> None:
        """Close the client, and the cluster if this executor started it."""
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()
