#
# SPDX-License-Identifier: Apache-2.0
#
"""Command line: ``python -m lasco_sionna.sweep CONFIG [options]``"""

import argparse
import sys

import pandas as pd

from lasco_sionna.sweep.config import check_plots, expand, load_config
from lasco_sionna.utils.executors import (PointError, get_executor,
                                          load_evaluator)
from lasco_sionna.sweep.plots import plot_results
from lasco_sionna.sweep.store import ResultStore
from lasco_sionna.utils.validation import check_positive


def run_sweep(config, executor="local", num_workers=None, overwrite=False,
              plots=True, max_points=None, progress=True):
    """Run (or resume) a sweep; return its results table

    Input
    -----
    config : :class:`~lasco_sionna.sweep.config.SweepConfig`
        The sweep

    executor : "local" (default) | "ray"
        Where points run

    num_workers : `None` (default) | `int`
        CPUs of a local Ray instance

    overwrite : `bool`, (default `False`)
        Discard earlier results in the output directory

    plots : `bool`, (default `True`)
        Draw the plots of ``config.plots``

    max_points : `None` (default) | `int`
        Stop after this many new points (the rest is done on resume)

    progress : `bool`, (default `True`)
        Progress bars

    Output
    ------
    table : `pandas.DataFrame`
        All finished points

    Note
    ----
    A point that raises (or returns a metric named like a parameter) is
    kept in ``<output>/failures.csv``, the other points still run, and
    :class:`~lasco_sionna.utils.executors.PointError` is raised at the end;
    the failed points are run again on resume. Plots are checked before
    the run, against the parameters and, if the evaluator declares them as
    its ``metrics`` attribute, the metrics.
    """
    if max_points is not None:
        check_positive("max_points", max_points, integer=True)
    executor = get_executor(executor, num_workers, progress)
    if plots:
        check_plots(config.plots, list(config.fixed) + list(config.grid),
                    getattr(load_evaluator(config.evaluator), "metrics",
                            None), where=f"sweep {config.name}")
    store = ResultStore(config, overwrite=overwrite)
    done = store.done_ids()
    todo = [p for p in expand(config) if p["point_id"] not in done]
    if max_points is not None:
        todo = todo[:max_points]
    failed = []

    def on_error(point, summary, trace=""):
        failed.append(f"{point['point_id']}: {summary}")
        store.record_failure(point, summary, trace)

    def on_result(point, metrics, elapsed_s):
        try:
            store.record(point, metrics, elapsed_s)
        except ValueError as e:
            on_error(point, f"ValueError: {e}")
    if todo:
        executor.run(config.evaluator, todo, on_result, on_error)
    table = store.table()
    if plots:
        plot_results(config.display(table), config.plots, config.output)
    if failed:
        raise PointError(f"{len(failed)} of {len(todo)} point(s) failed (see "
                         f"{store.failures_path}; they run again on resume):"
                         "\n" + "\n".join(failed))
    return table


def _positive_int(text):
    try:
        return check_positive("--max-points", int(text), integer=True)
    except ValueError as e:
        raise argparse.ArgumentTypeError(
            f"must be an integer >= 1, got {text!r}") from e


def format_table(config, table):
    """The results as printed at the end of a sweep

    Grid columns with readable values (see
    :meth:`~lasco_sionna.sweep.config.SweepConfig.display`), in grid order,
    then the result columns of ``config.table`` (default: all but the fixed
    parameters and ids); integer-valued columns are printed as integers.

    Input
    -----
    config : :class:`~lasco_sionna.sweep.config.SweepConfig`
        The sweep

    table : `pandas.DataFrame`
        Its results

    Output
    ------
    text : `str`
    """
    if table.empty:
        return "(no results)"
    metrics = config.table or [
        c for c in table.columns if c not in config.fixed and
        c not in config.grid and c not in ("point_id", "seed", "params_json")]
    missing = [c for c in metrics if c not in table]
    if missing:
        raise ValueError(f"`table` columns {missing} are not in the results; "
                         f"columns: {', '.join(table.columns)}")
    shown = config.display(table)
    keys = [k for k in config.grid if k in shown]
    shown = shown.sort_values(keys, kind="stable")[keys + metrics]
    for c in metrics:
        v = shown[c]
        if v.dtype.kind == "f" and v.notna().all() and (v % 1 == 0).all():
            shown[c] = v.astype("int64")
    with pd.option_context("display.width", 200, "display.max_columns", 30,
                           "display.float_format", "{:.4g}".format):
        return shown.to_string(index=False)


def main(argv=None):
    """Entry point; returns the exit code"""
    ap = argparse.ArgumentParser(
        prog="python -m lasco_sionna.sweep",
        description="Run a batch simulation described by a YAML config; "
                    "finished points are saved at once and skipped on "
                    "resume.")
    ap.add_argument("config", help="YAML sweep config (see sims/configs/)")
    ap.add_argument("--output", help="output directory (overrides the config)")
    ap.add_argument("--executor", default="local", choices=("local", "ray"))
    ap.add_argument("--workers", type=int, default=None,
                    help="CPUs of a local Ray instance")
    ap.add_argument("--overwrite", action="store_true",
                    help="discard earlier results in the output directory")
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--max-points", type=_positive_int, default=None,
                    help="stop after this many new points (>= 1)")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="override, e.g. fixed.dataset_size=100 or "
                         "grid.ebno_db=[0,5] (repeatable)")
    args = ap.parse_args(argv)
    overrides = list(args.set)
    if args.output:
        overrides.append(f"output={args.output}")
    try:
        config = load_config(args.config, overrides)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    failure = None
    try:
        table = run_sweep(config, args.executor, args.workers,
                          args.overwrite, not args.no_plots, args.max_points)
    except PointError as e:
        failure = e
        table = ResultStore(config).table()
    except (ValueError, ImportError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(format_table(config, table))
    print(f"\n{len(table)} points in {config.output}/results.csv"
          + ("" if args.no_plots else
             f"; plots: {', '.join(config.plots.get('y') or [])}"))
    if failure is not None:
        print(f"error: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
