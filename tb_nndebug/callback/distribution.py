"""The callback under ``tf.distribute``: which process writes, and where the probe runs.

Under ``tf.distribute.MultiWorkerMirroredStrategy`` every worker runs the same
script, so every worker runs :class:`~tb_nndebug.callback.DebuggerCallback`.
One run is wanted, so one process writes it: the one tf.distribute calls the
chief (``strategy.extended.should_checkpoint``, the flag tf.keras's
``ModelCheckpoint``, ``BackupAndRestore`` and ``TensorBoard`` read through
``distributed_file_utils``). That is ``multi_worker_util.is_chief``: the task
of type ``"chief"``, or ``"worker"`` 0 when the cluster has no chief (and an
``"evaluator"``, which is a cluster of its own). Single-process strategies
(``MirroredStrategy``, ``OneDeviceStrategy``, the default one) and the
coordinator of ``ParameterServerStrategy`` (where callbacks run) write.

The other workers skip the callback whole: tf.keras had non-chiefs write to a
temporary directory and delete it because a save may read ``ON_READ``
(metric) variables, an all-reduce every worker must join. The callback reads
only trainable variables (mirrored: the local copy, no collective) and runs
its probe locally outside ``strategy.run``, so the chief alone can run it and
the others have nothing to write.

A ``fit`` called inside the strategy's scope runs the callbacks in its
cross-replica context, where gradients of distributed variables are refused;
:func:`outside_scope` runs the probe where no strategy is in scope.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Role:
    """This process's part in the fit.

    Attributes
    ----------
    writes : bool
        This process writes the debugger run.
    task : str or None
        ``"<task type> <index>"`` of this process in a multi-worker cluster
        (None outside one).
    chief : str or None
        The task that writes the run (None outside a cluster).
    """

    writes: bool
    task: str | None = None
    chief: str | None = None

    def line(self) -> str:
        """What a non-writing worker prints, once."""
        return (f"{self.task}: the debugger run is written by the chief ({self.chief}); "
                "this worker records nothing")


def _cluster_jobs(resolver) -> list[str]:
    try:
        return list(resolver.cluster_spec().jobs)
    except Exception:  # noqa: BLE001 - a resolver without a readable spec: name worker 0
        return []


def role(model) -> Role:
    """Whether this process writes the run of ``model``'s fit, by tf.distribute's rule.

    Parameters
    ----------
    model : keras.Model
        The model being fit. Its ``distribute_strategy`` (the TensorFlow
        backend's; other backends have none and always write) decides.

    Returns
    -------
    Role
    """
    strategy = getattr(model, "distribute_strategy", None)
    extended = getattr(strategy, "extended", None)
    if extended is None:
        return Role(writes=True)
    writes = bool(getattr(extended, "should_checkpoint", True))
    resolver = getattr(strategy, "cluster_resolver", None)
    task_type = getattr(resolver, "task_type", None)
    if not task_type:  # not a cluster
        return Role(writes=writes)
    chief = "chief 0" if "chief" in _cluster_jobs(resolver) else "worker 0"
    return Role(writes=writes, task=f"{task_type} {getattr(resolver, 'task_id', 0)}",
                chief=chief)




def collective_reads(model) -> list[str]:
    """Paths of ``model``'s variables that all workers must read together.

    A ``synchronization="on_read"`` variable read outside a replica context is
    an all-reduce across the workers. In Keras 3 only metrics' state is such a
    variable, and that is not among ``model.weights``. A custom layer can make
    one, though.

    Parameters
    ----------
    model : keras.Model

    Returns
    -------
    list of str
    """
    return [str(v.path) for v in model.weights
            if getattr(v, "synchronization", None) == "on_read"]


def probe_blocker(model) -> str | None:
    """Why the probe must not run on the chief alone (None when it may).

    Parameters
    ----------
    model : keras.Model

    Returns
    -------
    str or None
        ``"<short reason>: <details>"``.
    """
    if role(model).task is None:
        return None
    reads = collective_reads(model)
    if not reads:
        return None
    shown = ", ".join(reads[:3]) + (f" and {len(reads) - 3} more" if len(reads) > 3 else "")
    return ("the model has variables every worker must read together: under a multi-worker "
            f"strategy a read of a synchronization='on_read' variable ({shown}) is an "
            "all-reduce, and the chief runs the probe alone, so predictions, the probe loss, "
            "gradients and dead units are not measured")


def outside_scope(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` where no ``tf.distribute`` strategy is in scope.

    ``with strategy.scope(): model.fit(...)`` runs the callbacks in the scope's
    cross-replica context, where TensorFlow refuses the gradient of a
    distributed variable ("DistributedVariable.handle is not available outside
    the replica context") and Keras's ``compute_loss`` divides a mean loss by
    the replicas in sync. A scope belongs to its thread, so ``fn`` then runs
    in a helper thread, where a mirrored variable reads as its local copy, as
    in a ``fit`` called outside the scope. Elsewhere (no scope, a replica
    context, another backend) ``fn`` runs here.

    Parameters
    ----------
    fn : callable
        Called once; what it raises is raised here.
    *args, **kwargs
        Passed to ``fn``.

    Returns
    -------
    object
        What ``fn`` returns.
    """
    import keras

    if keras.backend.backend() != "tensorflow":
        return fn(*args, **kwargs)
    import tensorflow as tf

    if not (tf.distribute.has_strategy() and tf.distribute.in_cross_replica_context()):
        return fn(*args, **kwargs)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="nndebug-probe") as pool:
        return pool.submit(fn, *args, **kwargs).result()
