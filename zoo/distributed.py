"""Data-parallel training on more than one device or machine (``zoo train --workers/--strategy``).

Synchronous data parallelism on the engines the zoo already uses: every replica holds the whole
model, each training step splits one *global* batch (the recipe's ``batch_size``) over the
replicas, their gradients are summed across replicas (an all-reduce) and every replica applies
the same update, so all copies of the weights stay identical.

Strategies (``make_strategy(spec)``; ``zoo train RECIPE --strategy SPEC``):

``None``            one process, one device (what the published checkpoints used).
``"mirrored"``      ``tf.distribute.MirroredStrategy``: every GPU of one machine.
``"multiworker"``   ``tf.distribute.MultiWorkerMirroredStrategy``: one process per machine (or
                    per local worker), configured by the ``TF_CONFIG`` environment variable;
                    worker 0 is the chief and the only one that writes the checkpoint folder.
``"tpu"``           ``tf.distribute.TPUStrategy`` on the TPU named by ``$TPU_NAME`` (default
                    ``"local"``: a TPU VM).
``"data-parallel"`` the Keras distribution API on the JAX backend
                    (``keras.distribution.DataParallel`` over ``keras.distribution.list_devices()``).

:func:`launch` (``zoo train RECIPE --workers N``) starts N local worker processes of the same
recipe under ``"multiworker"``, each with its own ``TF_CONFIG`` on free localhost ports, streams
their output prefixed ``[worker i]``, and fails with the failing worker's index, exit code and
the tail of its standard error (killing the others) if any worker fails. Each worker reports a
SHA-256 of its final weights; the launcher checks they are identical.

Keras 3.15 and ``MultiWorkerMirroredStrategy``: ``model.fit`` fails with more than one worker
(keras-team/keras#20585, tensorflow/tensorflow#72388) because of two multi-worker-only branches
of ``keras/src/backend/tensorflow/trainer.py``; :func:`patch_keras_for_multiworker` corrects
them (see its docstring) and is applied when the strategy is made.

Example (one machine, two local workers)::

    zoo train recipes/yeast/mlp.toml --workers 2 --out my-mlp

Example (worker 1 of a real two-machine cluster; run the same command with index 0 on the
other machine)::

    TF_CONFIG='{"cluster": {"worker": ["host0:12345", "host1:12345"]},
                "task": {"type": "worker", "index": 1}}' \\
        zoo train recipes/yeast/mlp.toml --strategy multiworker --out my-mlp
"""
from __future__ import annotations

import collections
import contextlib
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from zoo.errors import ZooError

STRATEGIES = ("mirrored", "multiworker", "tpu", "data-parallel")
REPORT_ENV = "ZOO_WORKER_REPORT"   # file a launched worker writes its report to (JSON)
TMP_ENV = "ZOO_WORKER_TMP"         # where non-chief workers stage their throw-away checkpoint


class WorkerFailed(ZooError):
    """A launched worker exited with a non-zero code (or the launch timed out)."""

    def __init__(self, message: str, worker: int | None = None, returncode: int | None = None,
                 stderr_tail: str = ""):
        super().__init__(message)
        self.worker, self.returncode, self.stderr_tail = worker, returncode, stderr_tail


# ----------------------------------------------------------------------------- strategies

def read_tf_config(env=None) -> dict:
    """The parsed and checked ``TF_CONFIG`` of this process.

    ``TF_CONFIG`` is the JSON ``{"cluster": {"worker": ["host:port", ...]}, "task": {"type":
    "worker", "index": i}}`` that ``MultiWorkerMirroredStrategy`` reads (a ``"chief"`` job is
    also accepted). Raises :class:`~zoo.errors.ZooError` naming what is missing.

    >>> read_tf_config({"TF_CONFIG": '{"cluster": {"worker": ["a:1", "b:2"]},'
    ...                 ' "task": {"type": "worker", "index": 1}}'})["task"]["index"]
    1
    """
    env = os.environ if env is None else env
    text = env.get("TF_CONFIG")
    if not text:
        raise ZooError("--strategy multiworker needs the TF_CONFIG environment variable, e.g. "
                       "TF_CONFIG='{\"cluster\": {\"worker\": [\"host0:12345\", "
                       "\"host1:12345\"]}, \"task\": {\"type\": \"worker\", \"index\": 0}}' "
                       "(or use zoo train --workers N to start N local workers)")
    try:
        cfg = json.loads(text)
    except json.JSONDecodeError as e:
        raise ZooError(f"TF_CONFIG is not valid JSON: {e.msg} at line {e.lineno}, column "
                       f"{e.colno}") from None
    cluster = cfg.get("cluster") if isinstance(cfg, dict) else None
    task = cfg.get("task") if isinstance(cfg, dict) else None
    if not isinstance(cluster, dict) or not any(isinstance(cluster.get(j), list) and cluster[j]
                                                for j in ("worker", "chief")):
        raise ZooError('TF_CONFIG needs "cluster": {"worker": ["host:port", ...]}')
    if not isinstance(task, dict) or task.get("type") not in cluster or not isinstance(
            task.get("index"), int) or not 0 <= task["index"] < len(cluster[task["type"]]):
        raise ZooError('TF_CONFIG needs "task": {"type": "worker", "index": i} with i an index '
                       f'into cluster[type]; got task={task!r}')
    return cfg


def make_strategy(spec: str | None = None):
    """A distribution strategy from its name (see the module docstring); ``None`` -> ``None``.

    ``spec`` defaults to ``$ZOO_STRATEGY`` when that is set. The TensorFlow strategies need the
    TensorFlow Keras backend and ``"data-parallel"`` the JAX one; both say so otherwise.

    >>> make_strategy(None) is None
    True
    """
    spec = spec if spec is not None else (os.environ.get("ZOO_STRATEGY") or None)
    if spec in (None, "none", "default"):
        return None
    if spec not in STRATEGIES:
        raise ZooError(f"unknown strategy {spec!r}; use one of {', '.join(STRATEGIES)}")
    import keras
    backend = keras.backend.backend()
    if spec == "data-parallel":
        if backend != "jax":
            raise ZooError("--strategy data-parallel is the Keras distribution API: it needs "
                           f"KERAS_BACKEND=jax (the backend is {backend!r}); on TensorFlow use "
                           "mirrored, multiworker or tpu")
        return KerasDataParallel()
    if backend != "tensorflow":
        raise ZooError(f"--strategy {spec} is a tf.distribute strategy: it needs "
                       f"KERAS_BACKEND=tensorflow (the backend is {backend!r}); on JAX use "
                       "data-parallel")
    import tensorflow as tf
    if spec == "mirrored":
        return tf.distribute.MirroredStrategy()
    if spec == "multiworker":
        read_tf_config()
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        patch_keras_for_multiworker()
        return strategy
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver(
        tpu=os.environ.get("TPU_NAME", "local"))
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)


class KerasDataParallel:
    """``keras.distribution.DataParallel`` with the two members :func:`zoo.train.fit` uses.

    ``fit`` builds the model under ``strategy.scope()`` (here the distribution's scope, which
    replicates the variables over the devices) and makes batches divisible by
    ``num_replicas_in_sync`` (each batch is split over the devices along its first axis).
    Making one sets the distribution for the whole process
    (``keras.distribution.set_distribution``). JAX backend only. On CPU, ``XLA_FLAGS=--xla_force_host_platform_device_count=2`` (set
    before JAX starts) gives two virtual devices to try it.
    """

    def __init__(self, devices=None):
        import keras
        self.devices = list(devices or keras.distribution.list_devices())
        self.distribution = keras.distribution.DataParallel(devices=self.devices)
        self.num_replicas_in_sync = len(self.devices)
        # global, so that fit() also splits every batch over the devices
        keras.distribution.set_distribution(self.distribution)

    def scope(self):
        return self.distribution.scope()


def describe(strategy) -> dict:
    """What the checkpoint card's ``training`` section records about the strategy.

    >>> describe(None)
    {'strategy': None, 'num_workers': 1, 'num_replicas': 1, 'worker_index': 0}
    """
    if strategy is None:
        return {"strategy": None, "num_workers": 1, "num_replicas": 1, "worker_index": 0}
    name, workers, index = type(strategy).__name__, 1, 0
    tf = sys.modules.get("tensorflow")
    if tf is not None and isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        # (its class is CollectiveAllReduceStrategy; recorded under its public name)
        name = "MultiWorkerMirroredStrategy"
        workers = int(strategy.extended._num_workers)
        index = int(strategy.cluster_resolver.task_id or 0)
    return {"strategy": name, "num_workers": workers,
            "num_replicas": int(strategy.num_replicas_in_sync), "worker_index": index}


def is_chief(strategy) -> bool:
    """True unless this process is a non-chief worker of a multi-worker strategy."""
    return describe(strategy)["worker_index"] == 0


@contextlib.contextmanager
def worker_output(out, strategy):
    """The folder this process writes its checkpoint to: ``out`` for the chief (and for
    single-process training); a temporary folder, deleted on exit, for the other workers.

    Every worker runs the same code to the end (saving included), as
    ``MultiWorkerMirroredStrategy`` expects; only the chief's folder is kept.
    """
    if is_chief(strategy):
        yield Path(out)
        return
    tmp = Path(tempfile.mkdtemp(prefix="zoo-worker-", dir=os.environ.get(TMP_ENV) or None))
    try:
        yield tmp / Path(out).name
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def weights_digest(model) -> dict:
    """SHA-256 and sum of a model's weights (equal across workers of a synchronous run).

    >>> import keras
    >>> m = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, kernel_initializer="ones")])
    >>> weights_digest(m)["sum"]
    2.0
    """
    import numpy as np
    h = hashlib.sha256()
    total = 0.0
    for w in model.get_weights():
        a = np.ascontiguousarray(np.asarray(w, dtype=np.float32))
        h.update(a.tobytes())
        total += float(a.sum(dtype=np.float64))
    return {"sha256": h.hexdigest(), "sum": total}


def write_report(model, strategy, training: dict, out) -> None:
    """Write this worker's report to ``$ZOO_WORKER_REPORT`` (set by :func:`launch`; no-op
    without it): index, strategy, the weights' digest, the last validation loss."""
    path = os.environ.get(REPORT_ENV)
    if not path:
        return
    from zoo._io import atomic_write_text
    hist = training.get("history") or {}
    report = {**describe(strategy), "pid": os.getpid(), "out": str(out),
              "weights": weights_digest(model), "epochs_run": training.get("epochs_run"),
              "wall_time_s": training.get("wall_time_s"),
              "train_examples": training.get("train_examples"),
              "final_val_loss": (hist.get("val_loss") or [None])[-1]}
    atomic_write_text(path, json.dumps(report, indent=1) + "\n")


# ----------------------------------------------------------------------------- Keras 3 fixes

def patch_keras_for_multiworker() -> bool:
    """Correct Keras 3's TensorFlow trainer for ``MultiWorkerMirroredStrategy`` (idempotent).

    Two branches that run only with more than one worker break ``model.fit`` in Keras 3.15
    (keras-team/keras#20585):

    1. ``TensorFlowTrainer._maybe_symbolic_build`` passes the whole ``(x, y)`` batch to
       ``strategy.reduce("MEAN", batch, axis=None)``, which takes a single value: with several
       workers it fails with ``ValueError: Attempt to convert a value (PerReplica: ...) with an
       unsupported type``. The batch only gives the shapes and dtypes to build the model with
       (``_symbolic_build`` reads nothing else), so the replacement passes the dataset's
       ``element_spec`` instead. That also avoids the extra pass Keras starts over the training
       data to draw that batch: under a strategy, Keras' own code opens one more iterator of
       the dataset before the first epoch, which with a seeded, reshuffling pipeline shifts
       every epoch's order by one (a run under ``MirroredStrategy`` equals a plain run that
       skipped one shuffle). With the replacement (installed in processes that made a
       multi-worker strategy, for every strategy they use), multi-worker training sees the
       same batch sequence as plain single-process training.
    2. ``reduce_per_replica`` reduces the per-step logs (scalars: loss and metric results)
       with ``strategy.reduce("MEAN", v, axis=0)``, which also averages over axis 0 of each
       value and fails on a scalar (``Invalid reduction dimension 0 for input with 0
       dimensions``). The single-machine branch averages over the replicas only; the
       replacement does that across workers (``axis=None``), so every worker sees the same
       logs (and early stopping stops every worker at the same epoch).

    Returns True when the patch was applied now, False when it already was.
    """
    from keras.src import tree
    from keras.src.backend.tensorflow import trainer as tf_trainer

    cls = tf_trainer.TensorFlowTrainer
    if getattr(cls._maybe_symbolic_build, "_zoo_multiworker", False):
        return False
    original_build = cls._maybe_symbolic_build
    original_reduce = tf_trainer.reduce_per_replica
    multi_worker = tf_trainer._collective_all_reduce_multi_worker

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        strategy = self._distribute_strategy
        adapter = getattr(iterator, "data_adapter", None)
        if strategy is None or adapter is None:
            return original_build(self, iterator=iterator, data_batch=data_batch)
        spec = adapter.get_tf_dataset().element_spec  # shapes and dtypes, no data read
        with strategy.scope():
            self._symbolic_build(data_batch=spec)

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and multi_worker(strategy):
            return tree.map_structure(lambda v: strategy.reduce("MEAN", v, axis=None), values)
        return original_reduce(values, strategy, reduction)

    _maybe_symbolic_build._zoo_multiworker = True
    cls._maybe_symbolic_build = _maybe_symbolic_build
    tf_trainer.reduce_per_replica = reduce_per_replica
    return True


# ----------------------------------------------------------------------------- the launcher

def free_ports(n: int, host: str = "localhost") -> list[int]:
    """``n`` distinct TCP ports that are free on ``host`` right now.

    >>> len(set(free_ports(3)))
    3
    """
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((host, 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def tf_config(workers: list[str], index: int) -> str:
    """The ``TF_CONFIG`` JSON of worker ``index`` of a cluster of ``workers`` addresses.

    >>> tf_config(["localhost:1", "localhost:2"], 1)
    '{"cluster": {"worker": ["localhost:1", "localhost:2"]}, "task": {"type": "worker", "index": 1}}'
    """
    return json.dumps({"cluster": {"worker": list(workers)},
                       "task": {"type": "worker", "index": int(index)}})


def _pump(stream, prefix: str, sink, tail: collections.deque | None, lock: threading.Lock):
    """Copy ``stream``'s lines to ``sink`` with ``prefix`` (keeping the last ones in ``tail``)."""
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if tail is not None:
            tail.append(line)
        if sink is not None:
            with lock:
                print(f"{prefix}{line}", file=sink, flush=True)
    stream.close()


def _stop(procs, grace: float = 5.0) -> None:
    """Terminate the processes still running (SIGTERM, then SIGKILL after ``grace`` s)."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    deadline = time.monotonic() + grace
    for p in procs:
        try:
            p.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def run_workers(commands: list[list[str]], envs: list[dict], *, out=None,
                timeout: float | None = None, log=sys.stderr, tail_lines: int = 20) -> list[int]:
    """Run one process per command, streaming their output; returns their pids.

    Each line a worker prints goes to ``log`` as ``[worker i] line``. The first worker to exit
    with a non-zero code (or a ``timeout`` in seconds) stops every other worker and raises
    :class:`WorkerFailed` naming the worker, its exit code and the last ``tail_lines`` lines of
    its standard error. ``out`` is the checkpoint folder: a staging folder a stopped worker
    left next to it (``.<name>.staging-<pid>``, see :func:`zoo.checkpoint.write_evaluated`) is
    removed, so a failed launch leaves no half-written checkpoint.
    """
    lock = threading.Lock()
    procs, threads, tails = [], [], []
    try:
        for i, (cmd, env) in enumerate(zip(commands, envs)):
            p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 stdin=subprocess.DEVNULL)
            procs.append(p)
            tails.append(collections.deque(maxlen=tail_lines))
            for stream, tail in ((p.stdout, None), (p.stderr, tails[-1])):
                t = threading.Thread(target=_pump, args=(stream, f"[worker {i}] ", log, tail,
                                                         lock), daemon=True)
                t.start()
                threads.append(t)
        start = time.monotonic()
        failed = None
        while failed is None:
            codes = [p.poll() for p in procs]
            bad = [i for i, c in enumerate(codes) if c not in (None, 0)]
            if bad:
                failed = bad[0]
            elif all(c == 0 for c in codes):
                break
            elif timeout is not None and time.monotonic() - start > timeout:
                failed = -1
            else:
                time.sleep(0.2)
        if failed is not None:
            _stop(procs)
            for t in threads:
                t.join(timeout=5)
            _remove_staging(out, procs)
            if failed == -1:
                raise WorkerFailed(f"the {len(procs)} workers did not finish within {timeout} s;"
                                   " all were stopped")
            code = procs[failed].returncode
            tail = "\n".join(tails[failed])
            raise WorkerFailed(
                f"worker {failed} of {len(procs)} failed with exit code {code}; the other "
                f"workers were stopped and no checkpoint was written. Last lines of its "
                f"standard error:\n{tail or '(empty)'}",
                worker=failed, returncode=code, stderr_tail=tail)
        for t in threads:
            t.join(timeout=5)
        return [p.pid for p in procs]
    finally:
        _stop(procs)  # KeyboardInterrupt or any other error: leave no worker behind


def _remove_staging(out, procs) -> None:
    if out is None:
        return
    out = Path(out)
    for p in procs:
        shutil.rmtree(out.with_name(f".{out.name}.staging-{p.pid}"), ignore_errors=True)


def worker_commands(recipe, workers: int, run_dir, *, out, force: bool = False,
                    python: str | None = None, env: dict | None = None):
    """The command and environment of each of ``workers`` local workers (see :func:`launch`).

    Every worker runs the same ``zoo train`` command; its environment differs in ``TF_CONFIG``
    (free localhost ports, its index) and in where it writes its report (``run_dir``).
    """
    run_dir = Path(run_dir)
    addresses = [f"localhost:{p}" for p in free_ports(workers)]
    cmd = [python or sys.executable, "-m", "zoo", "train", str(recipe),
           "--strategy", "multiworker", "--out", str(out)]
    if force:
        cmd.append("--force")
    commands, envs = [], []
    for i in range(workers):
        e = dict(os.environ if env is None else env)
        e.pop("ZOO_STRATEGY", None)
        e.update({"TF_CONFIG": tf_config(addresses, i),
                  REPORT_ENV: str(run_dir / f"worker-{i}.json"), TMP_ENV: str(run_dir)})
        commands.append(list(cmd))
        envs.append(e)
    return commands, envs


@dataclass
class LaunchResult:
    out: Path                       # the chief's checkpoint folder
    reports: list                   # one dict per worker (see write_report)
    wall_time_s: float              # launch to last exit
    agree: bool = field(default=True)


def launch(recipe, workers: int = 2, *, out, force: bool = False,
           timeout: float | None = None, log=sys.stderr, python: str | None = None,
           env: dict | None = None) -> LaunchResult:
    """Train ``recipe`` with ``workers`` local processes under ``MultiWorkerMirroredStrategy``.

    Each worker runs ``python -m zoo train RECIPE --strategy multiworker --out OUT [--force]``
    with its own ``TF_CONFIG`` (free localhost ports; worker 0 is the chief). The recipe's
    ``batch_size`` is the global batch: each of the N workers computes the gradient of
    ``batch_size / N`` rows per step. Only the chief writes ``out`` (atomically, with its
    metrics, replacing an existing folder); the others write to a temporary folder that is
    deleted. (``zoo train --workers`` first refuses an existing default checkpoint folder
    without ``--force`` and ``[finetune]`` recipes, which train in one process.)

    Returns a :class:`LaunchResult`; raises :class:`WorkerFailed` if a worker fails and
    :class:`~zoo.errors.ZooError` if the workers' final weights differ (they must be
    identical in synchronous data-parallel training).

    Example::

        >>> r = launch("recipes/yeast/mlp.toml", workers=2, out="my-mlp")  # doctest: +SKIP
        >>> r.agree, r.reports[1]["weights"] == r.reports[0]["weights"]   # doctest: +SKIP
        (True, True)
    """
    if int(workers) < 1:
        raise ZooError(f"--workers must be at least 1, got {workers}")
    workers = int(workers)
    run_dir = Path(tempfile.mkdtemp(prefix="zoo-launch-"))
    commands, envs = worker_commands(recipe, workers, run_dir, out=out, force=force,
                                     python=python, env=env)
    t0 = time.perf_counter()
    try:
        run_workers(commands, envs, out=out, timeout=timeout, log=log)
        wall = time.perf_counter() - t0
        reports = []
        for i in range(workers):
            path = run_dir / f"worker-{i}.json"
            if not path.is_file():
                raise ZooError(f"worker {i} exited without writing its report {path.name}")
            reports.append(json.loads(path.read_text()))
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    digests = {r["weights"]["sha256"] for r in reports}
    result = LaunchResult(out=Path(out), reports=reports, wall_time_s=round(wall, 2),
                          agree=len(digests) == 1)
    if not result.agree:
        sums = ", ".join(f"worker {r['worker_index']}: {r['weights']['sum']:.9g}" for r in reports)
        raise ZooError(f"the workers' final weights differ ({sums}); synchronous training "
                       f"must keep them identical. The chief's checkpoint is in {out}.")
    return result
