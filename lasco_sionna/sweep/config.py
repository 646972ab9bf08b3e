#
# SPDX-License-Identifier: Apache-2.0
#
"""Sweep configuration: YAML schema, validation, overrides and grid expansion

A sweep config (see ``sims/configs/quickstart.yaml``)::

    name: quickstart                 # required
    output: results/quickstart       # default: results/<name>
    seed: 1                          # default: 0
    evaluator: package.module:function   # required; function(point) -> dict
    fixed: {num_users: 4}            # parameters of every point
    grid:                            # required; the Cartesian product
      environment: [rt-munich, cdl-c]
      csi: [perfect, {name: quantized, bit_budget: 8192}]
      ebno_db: [-5.0, 0.0, 5.0]
    plots: {x: ebno_db, y: [bler], facet: environment, hue: [csi], logy: [bler],
            resolution: {bler: num_blocks},      # zero BLER drawn at 1/blocks
            legend: "{csi} ({feedback_bits_per_user:.0f} bits)",
            labels: {csi: [perfect CSI, 8 kbit], ebno_db: "Eb/N0 [dB]"}}
    paired: [csi]                    # optional: grid keys compared on common draws
    table: [bler, sum_rate]          # optional: result columns the CLI prints

Every point is ``fixed`` + one grid combination + ``seed`` + ``point_id``.
The id is a hash of the point's parameters, and the seed is derived from
(sweep seed, id), so neither depends on the executor or the order. With
``paired``, the seed ignores those grid keys: points that differ only in
them (e.g. CSI paths at the same environment and Eb/N0) share their seed,
hence their random draws (common random numbers), and are compared pairwise
rather than through independent Monte-Carlo noise.
"""

import copy
import hashlib
import itertools
import json
import math
import os
from dataclasses import dataclass, field

import pandas as pd
import yaml

from lasco_sionna.utils.seeds import derive_seed
from lasco_sionna.utils.validation import check_seed

TOP_LEVEL_KEYS = ("name", "output", "seed", "evaluator", "fixed", "grid",
                  "plots", "paired", "table")
PLOT_KEYS = ("x", "y", "facet", "hue", "logy", "resolution", "legend",
             "labels")


@dataclass
class SweepConfig:
    """A validated sweep configuration (see the module docstring)"""

    name: str
    evaluator: str
    grid: dict
    output: str = None
    seed: int = 0
    fixed: dict = field(default_factory=dict)
    plots: dict = field(default_factory=dict)
    paired: list = field(default_factory=list)
    table: list = field(default_factory=list)

    def to_dict(self):
        """`dict` : The configuration as written to ``config.yaml``"""
        return {"name": self.name, "output": self.output, "seed": self.seed,
                "evaluator": self.evaluator, "fixed": self.fixed,
                "grid": self.grid, "plots": self.plots,
                **({"paired": self.paired} if self.paired else {}),
                **({"table": self.table} if self.table else {})}

    def display(self, table):
        """Results table with readable grid values, in grid order

        The values of every grid key named by a list in ``plots.labels``
        are replaced by those names (in grid order) and become an ordered
        categorical column, so tables, panels and legends follow the
        grid's order.

        Input
        -----
        table : `pandas.DataFrame`
            Results (grid values as written by
            :class:`~lasco_sionna.sweep.store.ResultStore`)

        Output
        ------
        table : `pandas.DataFrame`
            A copy, renamed
        """
        table = table.copy()
        for key, names in (self.plots.get("labels") or {}).items():
            if not isinstance(names, list) or key not in table:
                continue
            cells = {label(v) if isinstance(v, (dict, list, tuple)) else v:
                     n for v, n in zip(self.grid[key], names)}
            unknown = sorted(set(table[key]) - set(cells), key=str)
            if unknown:
                raise ValueError(f"results column {key!r} holds {unknown}, "
                                 f"which are not in the grid ({list(cells)})")
            table[key] = pd.Categorical(table[key].map(cells),
                                        categories=list(names), ordered=True)
        return table

    def identity(self):
        """`dict` : What determines the results (resume must match it)"""
        return {"seed": self.seed, "evaluator": self.evaluator,
                "fixed": self.fixed, "grid": self.grid,
                **({"paired": self.paired} if self.paired else {})}


def canonical(value):
    """`str` : Canonical JSON of a parameter value (sorted keys)"""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def label(value):
    """`str` : Readable label of a parameter value

    ``{"name": "quantized", "bit_budget": 8192}`` -> ``quantized(bit_budget=8192)``
    """
    if isinstance(value, dict):
        params = {k: v for k, v in value.items() if k != "name"}
        inner = ",".join(f"{k}={label(v)}" for k, v in sorted(params.items()))
        return f"{value.get('name', '')}({inner})" if "name" in value else \
            f"({inner})"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(label(v) for v in value) + "]"
    return str(value)


def parse_config(raw, source="<dict>"):
    """Validate a raw config `dict` and return a :class:`SweepConfig`

    Input
    -----
    raw : `dict`
        Parsed YAML

    source : `str`
        Where it came from (used in error messages)

    Output
    ------
    config : :class:`SweepConfig`
    """
    where = f"sweep config {source}"
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: must be a mapping of "
                         f"{', '.join(TOP_LEVEL_KEYS)}, got {raw!r}")
    unknown = sorted(set(raw) - set(TOP_LEVEL_KEYS))
    if unknown:
        raise ValueError(f"{where}: unknown key(s) {unknown}; allowed: "
                         + ", ".join(TOP_LEVEL_KEYS))
    for key in ("name", "evaluator", "grid"):
        if key not in raw:
            raise ValueError(f"{where}: missing required key {key!r}")
    name = raw["name"]
    if not isinstance(name, str) or not name:
        raise ValueError(f"{where}: `name` must be a non-empty string, got "
                         f"{name!r}")
    evaluator = raw["evaluator"]
    if not isinstance(evaluator, str) or evaluator.count(":") != 1 or \
            not all(evaluator.split(":")):
        raise ValueError(f"{where}: `evaluator` must be 'module:function', "
                         f"got {evaluator!r}")
    seed = raw.get("seed", 0)
    try:
        check_seed("seed", seed)
    except ValueError as e:
        raise ValueError(f"{where}: {e}") from e
    fixed = raw.get("fixed") or {}
    if not isinstance(fixed, dict):
        raise ValueError(f"{where}: `fixed` must be a mapping, got {fixed!r}")
    grid = raw["grid"]
    if not isinstance(grid, dict) or not grid:
        raise ValueError(f"{where}: `grid` must be a non-empty mapping of "
                         f"parameter -> list of values, got {grid!r}")
    for key, values in grid.items():
        if not isinstance(values, list) or not values:
            raise ValueError(f"{where}: grid values of {key!r} must be a "
                             f"non-empty list, got {values!r}")
    overlap = sorted(set(fixed) & set(grid))
    if overlap:
        raise ValueError(f"{where}: {overlap} appear in both `fixed` and "
                         "`grid`")
    for reserved in ("seed", "point_id"):
        if reserved in fixed or reserved in grid:
            raise ValueError(f"{where}: {reserved!r} is set per point and "
                             "cannot be a parameter")
    for key, value in [*((f"fixed.{k}", v) for k, v in fixed.items()),
                       *((f"grid.{k}", v) for k, vs in grid.items()
                         for v in vs)]:
        if not _all_finite(value):
            raise ValueError(f"{where}: `{key}` holds {value!r}; parameters "
                             "must be finite (no NaN/Inf)")
    plots = raw.get("plots") or {}
    check_plots(plots, list(fixed) + list(grid), where=where)
    labels = plots.get("labels") or {}
    if not isinstance(labels, dict):
        raise ValueError(f"{where}: plots.labels must be a mapping, got "
                         f"{labels!r}")
    for key, names in labels.items():
        if isinstance(names, str):
            continue
        if not isinstance(names, list):
            raise ValueError(f"{where}: plots.labels.{key} must be a list "
                             "(names of a grid key's values) or a string "
                             f"(an axis name), got {names!r}")
        if key not in grid:
            raise ValueError(f"{where}: plots.labels.{key} names values, but "
                             f"{key!r} is not a grid key ({', '.join(grid)})")
        if len(names) != len(grid[key]) or \
                len(set(map(str, names))) != len(names):
            raise ValueError(f"{where}: plots.labels.{key} must be "
                             f"{len(grid[key])} distinct names, one per value "
                             f"of grid key {key!r}, got {names!r}")
    paired = raw.get("paired") or []
    if not isinstance(paired, list) or not set(paired) <= set(grid):
        raise ValueError(f"{where}: `paired` must be a list of grid keys "
                         f"({', '.join(grid)}), got {paired!r}")
    table = raw.get("table") or []
    if not isinstance(table, list) or \
            not all(isinstance(c, str) for c in table):
        raise ValueError(f"{where}: `table` must be a list of result "
                         f"columns, got {table!r}")
    output = raw.get("output") or os.path.join("results", name)
    return SweepConfig(name=name, evaluator=evaluator, grid=grid,
                       output=output, seed=seed, fixed=fixed, plots=plots,
                       paired=list(paired), table=list(table))


def _all_finite(value):
    """`bool` : no NaN/Inf float anywhere in a parameter value"""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_all_finite(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return all(_all_finite(v) for v in value)
    return True


def check_plots(plots, parameters, metrics=None, where="sweep config"):
    """Raise `ValueError` unless ``plots`` names columns the results will have

    ``facet`` and ``hue`` must be parameters; ``x`` and ``y`` may also be
    metrics, checked only if the evaluator declares them (a ``metrics``
    attribute of the function), so that a typo fails before the run.

    Input
    -----
    plots : `dict`
        The ``plots`` section (see :func:`~lasco_sionna.sweep.plots.plot_results`)

    parameters : `list` of `str`
        Fixed and grid keys

    metrics : `None` (default) | `list` of `str`
        Metric names the evaluator returns; `None` if unknown

    where : `str`
        Prefix of the message
    """
    if not isinstance(plots, dict):
        raise ValueError(f"{where}: `plots` must be a mapping, got {plots!r}")
    bad = sorted(set(plots) - set(PLOT_KEYS))
    if bad:
        raise ValueError(f"{where}: unknown plot key(s) {bad}; allowed: "
                         + ", ".join(PLOT_KEYS))
    if not plots:
        return
    for key in ("y", "hue", "logy"):
        if not isinstance(plots.get(key) or [], list):
            raise ValueError(f"{where}: plot {key} must be a list, got "
                             f"{plots[key]!r}")
    params = list(parameters) + ["seed"]
    columns = params + ([] if metrics is None else
                        list(metrics) + ["elapsed_s"])
    # Without x and y, the section only names values (labels) for tables
    drawn = "x" in plots or "y" in plots
    wanted = [("facet", plots.get("facet"), params),
              *(("hue", h, params) for h in plots.get("hue") or []),
              *([("x", plots.get("x"), columns)] if drawn else []),
              *(("y", y, columns) for y in plots.get("y") or [])]
    for key, name, allowed in wanted:
        if name is None and key == "facet":
            continue
        checkable = allowed is params or metrics is not None
        if name is None or (checkable and name not in allowed):
            raise ValueError(f"{where}: plot {key}={name!r} is not "
                             + ("a parameter" if allowed is params else
                                "a parameter or metric")
                             + " of the sweep; allowed: " + ", ".join(allowed))
    stray = sorted(set(plots.get("logy") or []) - set(plots.get("y") or []))
    if stray:
        raise ValueError(f"{where}: plot logy {stray} must be among y "
                         f"{plots.get('y') or []}")


def apply_override(raw, assignment):
    """Apply one ``key=value`` override to a raw config `dict` (in place)

    ``key`` is dotted (``fixed.dataset_size``, ``grid.ebno_db``, ``seed``);
    ``value`` is parsed as YAML (``[0, 5]``, ``{name: type1}``, ``3``).
    """
    if "=" not in assignment:
        raise ValueError(f"override {assignment!r} must look like key=value")
    key, value = assignment.split("=", 1)
    parts = key.strip().split(".")
    if parts[0] not in TOP_LEVEL_KEYS:
        raise ValueError(f"override {assignment!r}: unknown key {parts[0]!r}; "
                         "allowed: " + ", ".join(TOP_LEVEL_KEYS))
    node = raw
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ValueError(f"override {assignment!r}: {part!r} is not a "
                             "mapping")
    try:
        node[parts[-1]] = yaml.safe_load(value)
    except yaml.YAMLError as e:
        raise ValueError(f"override {assignment!r}: the value is not valid "
                         f"YAML: {e}") from e
    return raw


def load_config(path, overrides=()):
    """Read, override and validate a YAML sweep config

    Input
    -----
    path : `str`
        YAML file

    overrides : `list` of `str`
        ``key=value`` overrides (see :func:`apply_override`)

    Output
    ------
    config : :class:`SweepConfig`
    """
    if not os.path.isfile(path):
        raise FileNotFoundError(f"sweep config {path!r} does not exist")
    with open(path, encoding="utf-8") as f:
        try:
            raw = yaml.safe_load(f)
        except yaml.YAMLError as e:
            raise ValueError(f"sweep config {path}: malformed YAML: {e}") \
                from e
    raw = copy.deepcopy(raw) if isinstance(raw, dict) else raw
    if isinstance(raw, dict):
        for assignment in overrides:
            apply_override(raw, assignment)
    return parse_config(raw, source=path)


def point_id(params):
    """`str` : Stable 12-hex-digit id of a point's parameters"""
    return hashlib.sha256(canonical(params).encode()).hexdigest()[:12]


def point_seed(sweep_seed, pid):
    """`int` : Seed of a point, ``derive_seed(sweep_seed, pid)`` (sweep seed and point id)"""
    return derive_seed(sweep_seed, pid)


def _as_float(value):
    """``value`` with every number as a `float` (to compare ``0`` and ``0.0``)"""
    if isinstance(value, dict):
        return {k: _as_float(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_as_float(v) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return value


def _unique(values):
    """``values`` without repeats, numbers compared as floats"""
    seen, out = set(), []
    for value in values:
        key = canonical(_as_float(value))
        if key not in seen:
            seen.add(key)
            out.append(value)
    return out


def expand(config):
    """All points of a sweep, in grid order

    Output
    ------
    points : `list` of `dict`
        ``fixed`` + grid combination + ``seed`` + ``point_id``
    """
    keys = list(config.grid)
    # Equal values written differently ([0, 0.0]) are one point: the first
    grid = {k: _unique(config.grid[k]) for k in keys}
    points = []
    for combo in itertools.product(*(grid[k] for k in keys)):
        params = {**config.fixed, **dict(zip(keys, combo))}
        pid = point_id(params)
        # Paired keys do not change the draws (common random numbers)
        draws = point_id({k: v for k, v in params.items()
                          if k not in config.paired})
        points.append({**params, "seed": point_seed(config.seed, draws),
                       "point_id": pid})
    return points
