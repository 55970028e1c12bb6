"""Running searches and benchmarks on a Dask cluster (``mnistkit[distributed]``).

The estimators need nothing from this module to run on Dask: scikit-learn's
searches and `mnistkit.benchmark.run_benchmark` run on joblib, and
``joblib.parallel_config(backend="dask")`` sends their fits to the cluster.
What this module adds is for the cluster: `KeepScatteredData`, so that a
search survives the loss of a worker, and `worker_environment`, so that
workers sharing a host share its cores.
"""

from collections.abc import Generator
from typing import TYPE_CHECKING

from distributed.active_memory_manager import (
    ActiveMemoryManagerPolicy,
    Suggestion,
)

if TYPE_CHECKING:
    from distributed.scheduler import WorkerState

# The Dask setting that runs `KeepScatteredData` in the scheduler.
ACTIVE_MEMORY_MANAGER_POLICIES = "distributed.scheduler.active-memory-manager.policies"


class KeepScatteredData(ActiveMemoryManagerPolicy):
    """Keep a second copy of data sent to the cluster, which Dask cannot recompute.

    joblib's Dask backend sends a search's arrays (``X``, ``y`` and each
    cross-validation split's indices) to the workers with ``client.scatter``,
    each to one worker. Dask reruns the tasks of a worker that dies, but it
    cannot recreate scattered data: every fit that needs it is cancelled, and
    the search fails with ``FutureCancelledError``. This policy of Dask's
    active memory manager copies each scattered array to a second worker at
    every cycle (2 s by default), so a search survives the loss of any one
    worker once its data have been copied.

    It replaces Dask's default policy, ``ReduceReplicas``, which would drop
    the copies again. Run it in the scheduler (which must be able to import
    mnistkit) through Dask's configuration, before the scheduler starts::

        dask.config.set({ACTIVE_MEMORY_MANAGER_POLICIES: [
            {"class": "mnistkit.cluster.KeepScatteredData"}]})

    or in the scheduler's environment:
    ``DASK_DISTRIBUTED__SCHEDULER__ACTIVE_MEMORY_MANAGER__POLICIES=
    '[{"class": "mnistkit.cluster.KeepScatteredData"}]'``.

    Parameters
    ----------
    copies : int, default=2
        Workers that should hold each scattered array, at most all of them.

    Examples
    --------
    >>> import dask
    >>> from mnistkit.cluster import ACTIVE_MEMORY_MANAGER_POLICIES
    >>> policy = {"class": "mnistkit.cluster.KeepScatteredData"}
    >>> with dask.config.set({ACTIVE_MEMORY_MANAGER_POLICIES: [policy]}):
    ...     dask.config.get(ACTIVE_MEMORY_MANAGER_POLICIES)[0]["class"]
    'mnistkit.cluster.KeepScatteredData'
    """

    __slots__ = ("copies",)

    def __init__(self, copies: int = 2) -> None:
        self.copies = copies

    def run(self) -> "Generator[Suggestion, WorkerState | None, None]":
        """Suggest a copy of each scattered array held by too few workers.

        Yields
        ------
        suggestion : distributed.active_memory_manager.Suggestion
            One ``"replicate"`` suggestion per missing copy.

        Examples
        --------
        A scheduler's active memory manager calls it; alone it has no tasks:

        >>> from types import SimpleNamespace
        >>> from mnistkit.cluster import KeepScatteredData
        >>> policy = KeepScatteredData()
        >>> scheduler = SimpleNamespace(tasks={}, workers={})
        >>> policy.manager = SimpleNamespace(scheduler=scheduler)
        >>> list(policy.run())
        []
        """
        scheduler = self.manager.scheduler
        wanted = min(self.copies, len(scheduler.workers))
        for task in scheduler.tasks.values():
            # Scattered data has no run_spec: nothing could compute it again.
            if task.state == "memory" and task.run_spec is None:
                for _ in range(wanted - len(task.who_has or ())):
                    yield Suggestion("replicate", task)


def worker_environment(threads_per_worker: int) -> dict[str, str]:
    """Environment variables that limit each worker's TensorFlow to its share.

    TensorFlow starts as many threads as the host has cores, in every process;
    two workers on one host would each start that many and slow each other
    down. It reads these variables when it starts, so they must be in the
    worker's environment: ``LocalCluster(env=...)``, a dask-jobqueue job's
    ``job_script_prologue``, a Kubernetes pod's ``env``.

    A fit with a fixed ``random_state`` gives the same weights, bit for bit,
    wherever it runs with the same thread count: TensorFlow orders its sums
    by thread, so other thread counts give slightly different weights.

    Parameters
    ----------
    threads_per_worker : int
        Threads for each TensorFlow operation (intra-op); operations run one
        at a time (inter-op), as a small network's are mostly sequential.

    Returns
    -------
    environment : dict of str to str
        ``TF_NUM_INTRAOP_THREADS`` and ``TF_NUM_INTEROP_THREADS``.

    Examples
    --------
    >>> from mnistkit.cluster import worker_environment
    >>> worker_environment(1)
    {'TF_NUM_INTRAOP_THREADS': '1', 'TF_NUM_INTEROP_THREADS': '1'}
    """
    return {
        "TF_NUM_INTRAOP_THREADS": str(threads_per_worker),
        "TF_NUM_INTEROP_THREADS": "1",
    }
