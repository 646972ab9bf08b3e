#
# SPDX-License-Identifier: Apache-2.0
#
"""Results table of a sweep: one row per finished point, written atomically at once"""

import glob
import json
import os
import shutil
import warnings

import numpy as np
import pandas as pd
import yaml

from lasco_sionna.sweep.config import canonical, label, point_id
from lasco_sionna.utils.io import atomic_path


#: Columns a results row sets itself (no parameter or metric may use them)
RESERVED_COLUMNS = ("point_id", "seed", "elapsed_s", "params_json", "error",
                    "traceback")


class ResultStore:
    """``<output>/results.csv`` plus a copy of the config (``config.yaml``)

    Every :meth:`record` rewrites the CSV through an atomic replace, so a
    killed sweep leaves a valid table of all finished points. Resuming into
    an output directory written by a different sweep (different seed,
    evaluator, fixed parameters or grid) is refused. Points that raised are
    kept in ``<output>/failures.csv`` (:meth:`record_failure`) until they
    succeed on a later run. On opening, temporary files of a killed write
    are removed, and rows that do not match their parameters (a truncated
    last row) are dropped with a warning, so they are run again.

    Parameters
    ----------
    config : :class:`~lasco_sionna.sweep.config.SweepConfig`
        The sweep

    overwrite : `bool`, (default `False`)
        Discard previous results in the output directory
    """

    def __init__(self, config, overwrite=False):
        self.config = config
        self.output = config.output
        self.csv_path = os.path.join(self.output, "results.csv")
        self.failures_path = os.path.join(self.output, "failures.csv")
        self.config_path = os.path.join(self.output, "config.yaml")
        if overwrite and os.path.isdir(self.output):
            for path in (self.csv_path, self.failures_path, self.config_path):
                if os.path.exists(path):
                    os.remove(path)
        os.makedirs(self.output, exist_ok=True)
        # Left by a write that was killed (SIGKILL) before its rename
        for path in glob.glob(os.path.join(glob.escape(self.output), "*.tmp")):
            os.remove(path)
        if os.path.exists(self.config_path):
            with open(self.config_path, encoding="utf-8") as f:
                previous = yaml.safe_load(f) or {}
            old = {k: previous.get(k) for k in config.identity()}
            if canonical(old) != canonical(config.identity()):
                raise ValueError(
                    f"{self.output} holds results of a different sweep "
                    f"(see {self.config_path}); use --overwrite to discard "
                    "them or --output to write elsewhere")
        else:
            with atomic_path(self.config_path) as tmp:
                with open(tmp, "w", encoding="utf-8") as f:
                    yaml.safe_dump(config.to_dict(), f, sort_keys=False)
        self._table = _read_rows(self.csv_path)
        self._failures = _read_rows(self.failures_path)

    def done_ids(self):
        """`set` of `str` : ids of finished points"""
        if self._table.empty:
            return set()
        return set(self._table["point_id"])

    def _row(self, point):
        params = {k: v for k, v in point.items()
                  if k not in ("seed", "point_id")}
        row = {"point_id": point["point_id"], "seed": point["seed"]}
        row.update({k: label(v) if isinstance(v, (dict, list, tuple)) else v
                    for k, v in params.items()})
        return row, json.dumps(params, sort_keys=True)

    def record(self, point, metrics, elapsed_s):
        """Append one finished point and write the table atomically

        Input
        -----
        point : `dict`
            The point (parameters, ``seed``, ``point_id``)

        metrics : `dict`
            The evaluator's result; a metric named like a parameter or
            one of :data:`RESERVED_COLUMNS` raises `ValueError` (nothing
            is written)

        elapsed_s : `float`
            Wall time of the point [s]
        """
        row, params_json = self._row(point)
        clash = sorted(set(metrics) & (set(row) | set(RESERVED_COLUMNS)))
        if clash:
            raise ValueError(f"metric(s) {clash} of point {point['point_id']}"
                             " would overwrite the parameter/bookkeeping "
                             "column(s) of that name; rename them in the "
                             "evaluator")
        row.update(metrics)
        row["elapsed_s"] = elapsed_s
        row["params_json"] = params_json
        self._table = _write_rows(self.csv_path, self._table, row)
        if point["point_id"] in set(self._failures.get("point_id", ())):
            self._failures = self._failures[
                self._failures["point_id"] != point["point_id"]]
            _write_rows(self.failures_path, self._failures)

    def record_failure(self, point, error, trace=""):
        """Keep a point that raised in ``failures.csv`` (replacing an earlier failure of it)

        Input
        -----
        point : `dict`
            The point

        error : `str`
            One-line summary (exception type and message)

        trace : `str`, (default "")
            Traceback
        """
        row, params_json = self._row(point)
        row.update({"error": error, "traceback": trace,
                    "params_json": params_json})
        if not self._failures.empty:
            self._failures = self._failures[
                self._failures["point_id"] != point["point_id"]]
        self._failures = _write_rows(self.failures_path, self._failures, row)

    def table(self):
        """`pandas.DataFrame` : All finished points"""
        return self._table.copy()

    def failures(self):
        """`pandas.DataFrame` : Points that raised and have not succeeded since"""
        return self._failures.copy()

    def clear(self):
        """Delete the output directory"""
        shutil.rmtree(self.output, ignore_errors=True)


def _write_rows(path, table, row=None):
    """``table`` (+ ``row``) written atomically to ``path``; returns the table"""
    if row is not None:
        table = pd.concat([table, pd.DataFrame([row])], ignore_index=True)
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False)
    return table


def _read_rows(path):
    """Rows of a results or failures CSV whose ``params_json`` matches their ``point_id``

    A file that is not such a table raises `ValueError` naming it; rows
    that do not match (a truncated last row) are dropped with a warning.
    """
    if not os.path.exists(path):
        return pd.DataFrame()
    try:
        table = pd.read_csv(path, dtype={"point_id": str})
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as e:
        raise ValueError(f"{path} is not a CSV table of sweep points ({e}); "
                         "use --overwrite to discard it") from e
    missing = [c for c in ("point_id", "params_json") if c not in table]
    if missing:
        raise ValueError(f"{path} is not a CSV table of sweep points: no "
                         f"column(s) {missing}; use --overwrite to discard it")
    with open(path, "rb") as f:
        f.seek(-1, os.SEEK_END)
        ends_in_newline = f.read(1) == b"\n"

    def intact(row):
        try:
            return point_id(json.loads(row["params_json"])) == row["point_id"]
        except (TypeError, ValueError):
            return False
    ok = np.array([intact(row) for _, row in table.iterrows()], bool)
    if not ends_in_newline and len(table):
        ok[-1] = False
    if not ok.all():
        warnings.warn(f"{path}: {int((~ok).sum())} incomplete row(s) (point "
                      f"id(s) {list(table['point_id'][~ok])}) dropped; "
                      "they are run again", stacklevel=3)
    return table[ok].reset_index(drop=True)
