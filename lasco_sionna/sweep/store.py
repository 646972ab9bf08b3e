#
# SPDX-License-Identifier: Apache-2.0
#
"""Results table of a sweep: one row per finished point, written atomically at once"""

import json
import os
import shutil

import pandas as pd
import yaml

from lasco_sionna.sweep.config import canonical, label
from lasco_sionna.utils.io import atomic_path


class ResultStore:
    """``<output>/results.csv`` plus a copy of the config (``config.yaml``)

    Every :meth:`record` rewrites the CSV through an atomic replace, so a
    killed sweep leaves a valid table of all finished points. Resuming into
    an output directory written by a different sweep (different seed,
    evaluator, fixed parameters or grid) is refused.

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
        self.config_path = os.path.join(self.output, "config.yaml")
        if overwrite and os.path.isdir(self.output):
            for path in (self.csv_path, self.config_path):
                if os.path.exists(path):
                    os.remove(path)
        os.makedirs(self.output, exist_ok=True)
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
        self._table = pd.read_csv(self.csv_path) \
            if os.path.exists(self.csv_path) else pd.DataFrame()

    def done_ids(self):
        """`set` of `str` : ids of finished points"""
        if self._table.empty:
            return set()
        return set(self._table["point_id"].astype(str))

    def record(self, point, metrics, elapsed_s):
        """Append one finished point and write the table atomically

        Input
        -----
        point : `dict`
            The point (parameters, ``seed``, ``point_id``)

        metrics : `dict`
            The evaluator's result

        elapsed_s : `float`
            Wall time of the point [s]
        """
        params = {k: v for k, v in point.items()
                  if k not in ("seed", "point_id")}
        row = {"point_id": point["point_id"], "seed": point["seed"]}
        row.update({k: label(v) if isinstance(v, (dict, list, tuple)) else v
                    for k, v in params.items()})
        row.update(metrics)
        row["elapsed_s"] = elapsed_s
        row["params_json"] = json.dumps(params, sort_keys=True)
        self._table = pd.concat([self._table, pd.DataFrame([row])],
                                ignore_index=True)
        with atomic_path(self.csv_path) as tmp:
            self._table.to_csv(tmp, index=False)

    def table(self):
        """`pandas.DataFrame` : All finished points"""
        return self._table.copy()

    def clear(self):
        """Delete the output directory"""
        shutil.rmtree(self.output, ignore_errors=True)
