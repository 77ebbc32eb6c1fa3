"""Where benchmark tasks run: in this process, or in a pool of worker processes.

The harness only calls :meth:`Executor.map_unordered`, so another backend (a Ray cluster, issue
#7) is one more subclass here and no change to the harness. Each worker gets
``threads`` torch/BLAS threads: the machine's cores divided by the job count, because
oversubscribed threads slow every job down (two threads under load were measured up to 8x slower
than one).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: the environment variables the common thread pools read at start-up
THREAD_ENV_VARS = (
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)


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
        """fn(item) for every item; an exception in any task stops the run and is re-raised."""

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


def make_executor(jobs: int, threads: int | None = None) -> Executor:
    """The executor for ``--jobs``: in-process for one job, a spawned process pool for more."""
    threads = threads or threads_per_job(jobs)
    return SerialExecutor(threads) if jobs <= 1 else ProcessExecutor(jobs, threads)
