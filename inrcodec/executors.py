"""Where per-item work runs: in this process, in a pool of worker processes, or on a Ray cluster.

The benchmark harness (:mod:`inrcodec.bench`) and the batch encoder (:mod:`inrcodec.batch`) only
call :meth:`Executor.map_unordered`, so the backend is chosen by :func:`make_executor` and
nothing else changes. Each job gets ``threads`` torch/BLAS threads: by default the machine's
cores divided by the job count, because oversubscribed threads slow every job down (two threads
under load were measured up to 8x slower than one).

Ray is an optional dependency (``pip install "inrcodec[ray]"``); it is imported only when a Ray
executor is asked for.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

from .errors import InrError, OptionError

T = TypeVar("T")
R = TypeVar("R")

#: the executor kinds ``--executor`` accepts
EXECUTORS = ("local", "ray")

#: the environment variables the common thread pools read at start-up
THREAD_ENV_VARS = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)

RAY_MISSING = 'the Ray executor needs Ray, an optional extra: pip install "inrcodec[ray]"'


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where the OS has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


def threads_per_job(jobs: int, cores: int | None = None) -> int:
    """max(1, cores // jobs)."""
    return max(1, (cores or available_cores()) // max(1, jobs))


def set_thread_env(threads: int) -> dict[str, str | None]:
    """Point the thread-pool environment variables at ``threads``; returns the old values."""
    old = {name: os.environ.get(name) for name in THREAD_ENV_VARS}
    for name in THREAD_ENV_VARS:
        os.environ[name] = str(threads)
    return old


def restore_env(old: dict[str, str | None]) -> None:
    for name, value in old.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def init_worker(threads: int) -> None:
    """Limit this process to ``threads`` compute threads (run first in every worker)."""
    import signal

    # Ctrl-C reaches the whole process group; the parent alone handles it (and stops us), so
    # workers do not each print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    set_thread_env(threads)
    import torch

    torch.set_num_threads(threads)


class Executor(ABC):
    """Runs a function over tasks, yielding results as they finish (in any order)."""

    def __init__(self, jobs: int, threads: int) -> None:
        self.jobs = jobs
        self.threads = threads

    @abstractmethod
    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """fn(item) for every item; an exception in any task stops the run and is re-raised.

        ``fn`` must be a module-level function and items and results picklable: workers may be
        other processes or other machines. Items are drawn from ``items`` lazily, a few per
        worker ahead, so a generator of large items stays cheap."""

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc) -> None:
        return None


class SerialExecutor(Executor):
    """Runs tasks one after another in this process, with its torch threads set for the run."""

    def __init__(self, threads: int) -> None:
        super().__init__(1, threads)
        self._restore: tuple[dict[str, str | None], int] | None = None

    def __enter__(self) -> SerialExecutor:
        import torch

        self._restore = (set_thread_env(self.threads), torch.get_num_threads())
        torch.set_num_threads(self.threads)
        return self

    def __exit__(self, *exc) -> None:
        import torch

        if self._restore is not None:
            env, torch_threads = self._restore
            restore_env(env)
            torch.set_num_threads(torch_threads)
            self._restore = None

    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        for item in items:
            yield fn(item)


class ProcessExecutor(Executor):
    """A pool of ``jobs`` spawned worker processes (spawn: safe with torch and threads)."""

    def __init__(self, jobs: int, threads: int) -> None:
        super().__init__(jobs, threads)
        self._pool = None
        self._old_env: dict[str, str | None] | None = None

    def __enter__(self) -> ProcessExecutor:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # Children inherit the environment at spawn time, before they import torch.
        self._old_env = set_thread_env(self.threads)
        self._pool = ProcessPoolExecutor(
            max_workers=self.jobs,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=init_worker,
            initargs=(self.threads,),
        )
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            if exc[0] is not None:
                # On an error or Ctrl-C, stop now rather than finish encodes that may take
                # minutes; their rows were never cached, so a rerun does them again.
                # (ProcessPoolExecutor has no public way to do this before Python 3.14.)
                for process in list(getattr(self._pool, "_processes", {}).values()):
                    process.terminate()
            self._pool.shutdown(wait=True, cancel_futures=exc[0] is not None)
            self._pool = None
        if self._old_env is not None:
            restore_env(self._old_env)
            self._old_env = None

    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        from concurrent.futures import FIRST_COMPLETED, wait

        if self._pool is None:
            raise RuntimeError("use the executor in a with-block")
        pending = set()
        queue = iter(items)
        # Keep only a few tasks queued per worker, so a big run does not pickle every image
        # up front and an interrupt leaves little to cancel.
        for item in queue:
            pending.add(self._pool.submit(fn, item))
            if len(pending) >= 2 * self.jobs:
                break
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
                for item in queue:
                    pending.add(self._pool.submit(fn, item))
                    break


# --- Ray ---------------------------------------------------------------------------------------


def import_ray() -> Any:
    """The ``ray`` module, or a one-line OptionError naming the extra that installs it."""
    try:
        import ray
    except ImportError:
        raise OptionError(RAY_MISSING) from None
    return ray


def run_with_threads(fn: Callable[[T], R], threads: int, item: T) -> R:
    """``fn(item)`` with ``threads`` torch threads: what a Ray task runs. Ray reuses worker
    processes across tasks (and sets OMP_NUM_THREADS only from the task's CPU request), so the
    torch pool is set on every call."""
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return fn(item)


def ray_resources(threads: int, gpus: float) -> dict[str, float]:
    """What one task asks the Ray scheduler for: its threads as CPUs, and ``gpus`` GPUs."""
    resources: dict[str, float] = {"num_cpus": threads}
    if gpus:
        resources["num_gpus"] = gpus
    return resources


class RayExecutor(Executor):
    """Tasks on a Ray cluster, each asking for ``threads`` CPUs and ``gpus`` GPUs.

    ``address`` is what ``ray.init`` takes: ``"auto"`` for the cluster this machine belongs to
    (``ray start --head`` ran here), ``"ray://host:10001"`` for a remote one, ``None`` to start a
    private local instance for the run. If Ray is already initialised in this process (a script
    or a test called ``ray.init``), that instance is used and left running. Every node needs
    inrcodec installed; items and results travel through Ray's object store, so no shared file
    system is needed.
    """

    def __init__(self, threads: int = 1, gpus: float = 0, address: str | None = None,
                 in_flight: int | None = None) -> None:  # fmt: skip
        super().__init__(0, threads)
        import_ray()  # fail now, with the extra's name, rather than when the run starts
        self.gpus = gpus
        self.address = address
        self.in_flight = in_flight
        self._ray: Any = None
        self._owned = False
        self._pending: dict[Any, None] = {}

    def __enter__(self) -> RayExecutor:
        import logging

        ray = import_ray()
        if not ray.is_initialized():
            # A private local instance needs no dashboard, and its start-up warnings (about
            # authentication tokens, /dev/shm) concern clusters, not this run.
            extra = {"include_dashboard": False, "logging_level": logging.ERROR} if self.address is None else {}
            # "local" starts a new instance even where RAY_ADDRESS or /tmp/ray/ray_current_cluster
            # (left by `ray start`, even one stopped uncleanly) names a cluster: ray.init(None)
            # would join that one instead.
            address = "local" if self.address is None else self.address
            try:
                ray.init(address=address, **{"logging_level": logging.WARNING, **extra})
            except ConnectionError as e:
                raise OptionError(f"cannot reach a Ray cluster at '{self.address}': {e}") from None
            self._owned = True
        self._ray = ray
        self._remote = ray.remote(run_with_threads).options(max_retries=0, **ray_resources(self.threads, self.gpus))
        self.jobs = self._slots()
        return self

    def _slots(self) -> int:
        """Tasks the cluster can run at once, by its CPUs (or GPUs for GPU tasks)."""
        resources = self._ray.cluster_resources()
        if self.gpus:
            return max(1, int(resources.get("GPU", 0) // self.gpus))
        return max(1, int(resources.get("CPU", 1) // self.threads))

    def __exit__(self, *exc) -> None:
        if self._ray is None:
            return
        for ref in list(self._pending):  # an error or Ctrl-C: stop the work nobody will collect
            try:
                self._ray.cancel(ref, force=True)
            except Exception:  # already finished, or its worker is gone: nothing to stop
                pass
        self._pending.clear()
        if self._owned:
            self._ray.shutdown()
            self._owned = False
        self._ray = None

    def _result(self, ref: Any) -> Any:
        ray = self._ray
        try:
            return ray.get(ref)
        except ray.exceptions.RayTaskError as e:
            # Re-raise what the task raised (an InrError keeps its one-line message).
            cause = getattr(e, "cause", None)
            if isinstance(cause, BaseException):
                raise cause from None
            raise InrError(f"a Ray task failed: {str(e).splitlines()[0]}") from None
        except ray.exceptions.RayError as e:  # a worker or node died
            raise InrError(f"a Ray task failed: {type(e).__name__}: {str(e).splitlines()[0]}") from None

    def map_unordered(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        if self._ray is None:
            raise RuntimeError("use the executor in a with-block")
        ray = self._ray
        window = self.in_flight or 2 * self.jobs
        for item in items:
            self._pending[self._remote.remote(fn, self.threads, item)] = None
            while len(self._pending) >= window:
                yield from self._collect(ray)
        while self._pending:
            yield from self._collect(ray)

    def _collect(self, ray: Any) -> Iterator[Any]:
        ready, _ = ray.wait(list(self._pending), num_returns=1)
        for ref in ready:
            del self._pending[ref]
            yield self._result(ref)


def make_executor(jobs: int, threads: int | None = None, *, kind: str = "local",
                  address: str | None = None, gpus: float = 0) -> Executor:  # fmt: skip
    """The executor for ``--jobs``/``--executor``.

    ``local``: in-process for one job, a spawned process pool for more; ``threads`` defaults
    to the cores divided by the jobs. ``ray``: tasks on the Ray cluster at ``address`` (see
    :class:`RayExecutor`), each asking for ``threads`` CPUs (default 1) and ``gpus`` GPUs; the
    cluster's size sets the parallelism, so ``jobs`` is not used.
    """
    if kind == "ray":
        return RayExecutor(threads or 1, gpus, address)
    if kind != "local":
        raise OptionError(f"unknown executor '{kind}' (choose from {', '.join(EXECUTORS)})")
    if address is not None:
        raise OptionError("--address is for --executor ray")
    threads = threads or threads_per_job(jobs)
    return SerialExecutor(threads) if jobs <= 1 else ProcessExecutor(jobs, threads)
