#
# SPDX-License-Identifier: Apache-2.0
#
"""Executors: run a ``module:function`` evaluator on a list of points in-process or on Ray, recording each as it finishes

Generic and Sionna-free: the sweep runs link points with them, and
:func:`~lasco_sionna.channels.build_dataset` runs dataset chunks.
"""

import importlib
import os
import time
import traceback

from tqdm.auto import tqdm


def load_evaluator(spec):
    """The callable named by ``"module:function"``"""
    module, func = spec.split(":")
    try:
        fn = getattr(importlib.import_module(module), func)
    except (ImportError, AttributeError) as e:
        raise ValueError(f"cannot load evaluator {spec!r}: {e}") from e
    if not callable(fn):
        raise ValueError(f"evaluator {spec!r} is not callable")
    return fn


def _timed(evaluator, point):
    t0 = time.perf_counter()
    metrics = evaluator(dict(point))
    if not isinstance(metrics, dict):
        raise TypeError(f"the evaluator must return a dict of metrics, got "
                        f"{type(metrics).__name__}")
    return metrics, time.perf_counter() - t0


class PointError(RuntimeError):
    """A sweep point failed (carries the point and the remote traceback)"""


class LocalExecutor:
    """Runs points one after the other in this process

    Parameters
    ----------
    progress : `bool`, (default `True`)
        Show a progress bar
    """

    def __init__(self, progress=True):
        self.progress = progress

    def run(self, evaluator, points, on_result, on_error=None):
        """Evaluate ``points``; call ``on_result(point, metrics, elapsed_s)`` for each

        Input
        -----
        evaluator : `str`
            ``"module:function"``

        points : `list` of `dict`
            Points to evaluate

        on_result : `callable`
            Called as soon as a point finishes

        on_error : `None` (default) | `callable`
            Called as ``on_error(point, summary, traceback)`` when a point
            raises, and the other points still run; `None` raises
            :class:`PointError` at the first failure
        """
        fn = load_evaluator(evaluator)
        for point in tqdm(points, desc="sweep", unit="point",
                          disable=not self.progress):
            failure = _handle(point, *_attempt(fn, point), on_result,
                              on_error)
            if failure is not None:
                raise failure


def _attempt(evaluator, point):
    """``("ok", (metrics, elapsed_s))`` or ``("error", (summary, traceback))``"""
    try:
        return "ok", _timed(evaluator, point)
    except Exception as e:  # pylint: disable=broad-except
        return "error", (f"{type(e).__name__}: {e}", traceback.format_exc())


def _ray_task(evaluator, point):
    try:
        fn = load_evaluator(evaluator)
    except Exception as e:  # pylint: disable=broad-except
        return "error", (f"{type(e).__name__}: {e}", traceback.format_exc())
    return _attempt(fn, point)


def _handle(point, status, value, on_result, on_error, where=""):
    """Pass a finished point on; return a `PointError` to raise, or `None`"""
    if status == "ok":
        on_result(point, *value)
        return None
    summary, trace = value
    if on_error is not None:
        on_error(point, summary, trace)
        return None
    return PointError(f"point {point['point_id']} {point} failed{where}: "
                      f"{summary}\n{trace}")


class RayExecutor:
    """Runs points as Ray tasks (one CPU each), recording each as it finishes

    Connects to ``$RAY_ADDRESS`` if set, else starts a local Ray instance.
    Results equal the local executor's because every point carries its own
    seed.

    Parameters
    ----------
    num_workers : `None` (default) | `int`
        CPUs of a local Ray instance (all if `None`)

    progress : `bool`, (default `True`)
        Show a progress bar
    """

    def __init__(self, num_workers=None, progress=True):
        self.num_workers = num_workers
        self.progress = progress

    def run(self, evaluator, points, on_result, on_error=None):
        """Same contract as :meth:`LocalExecutor.run` (without ``on_error``, the
        other points still finish before the first failure is raised)"""
        try:
            import ray  # pylint: disable=import-outside-toplevel
        except ImportError as e:
            raise ImportError("the Ray executor needs Ray: pip install "
                              "'lasco-sionna[distributed]'") from e
        load_evaluator(evaluator)  # fail early on a bad spec
        if not ray.is_initialized():
            address = os.environ.get("RAY_ADDRESS")
            kwargs = {} if address else {"num_cpus": self.num_workers}
            if not address:
                # Ray runs its workers at niceness 15 by default: on a
                # shared machine they would yield to every other job
                os.environ.setdefault("RAY_worker_niceness", "0")
            ray.init(address=address, include_dashboard=False,
                     log_to_driver=False, **kwargs)
        task = ray.remote(num_cpus=1)(_ray_task)
        pending = {task.remote(evaluator, p): p for p in points}
        failure = None
        with tqdm(total=len(points), desc="sweep (ray)", unit="point",
                  disable=not self.progress) as bar:
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                point = pending.pop(done[0])
                failed = _handle(point, *ray.get(done[0]), on_result,
                                 on_error, where=" on Ray")
                failure = failure or failed
                bar.update(1)
        if failure is not None:
            raise failure


def get_executor(name, num_workers=None, progress=True):
    """``"local"`` or ``"ray"`` executor"""
    if name == "local":
        return LocalExecutor(progress=progress)
    if name == "ray":
        return RayExecutor(num_workers=num_workers, progress=progress)
    raise ValueError(f"`executor`={name!r} is not valid; allowed: 'local', "
                     "'ray'")
