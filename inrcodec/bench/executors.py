"""Moved to :mod:`inrcodec.executors` (the batch encoder uses them too); re-exported here so
that existing imports keep working."""

from ..executors import (  # noqa: F401
    THREAD_ENV_VARS,
    Executor,
    ProcessExecutor,
    RayExecutor,
    SerialExecutor,
    available_cores,
    init_worker,
    make_executor,
    restore_env,
    set_thread_env,
    threads_per_job,
)
