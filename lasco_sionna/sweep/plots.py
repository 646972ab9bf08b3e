#
# SPDX-License-Identifier: Apache-2.0
#
"""Plots of a sweep's results table (matplotlib figures drawn without pyplot)

Figures are :class:`matplotlib.figure.Figure` objects saved directly to
files: nothing here selects a backend or touches pyplot's state, so
importing this module leaves the user's matplotlib setup as it was.
"""

import os
import string

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from lasco_sionna.utils.io import atomic_path


def shared_legend(fig, axes, fontsize=7):
    """One legend for all panels of ``fig``, to the right of them

    Each label appears once (its first handle), in the order the panels
    drew them. Save with ``bbox_inches="tight"`` so the legend is kept.

    Input
    -----
    fig : `matplotlib.figure.Figure`
        The figure

    axes : iterable of `matplotlib.axes.Axes`
        The panels whose labelled artists go into the legend

    fontsize : `int`, (default 7)
        Legend font size
    """
    handles = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, handle)
    fig.legend(list(handles.values()), list(handles), fontsize=fontsize,
               loc="upper left", bbox_to_anchor=(1.0, 0.95), frameon=False)


def zero_error_floor(values, trials):
    r"""Place zero error rates at the resolution floor ``1 / trials``

    A point with no errors in ``trials`` trials (blocks, bits) has no place
    on a log axis; drawn at ``1 / trials`` (the smallest rate it could have
    measured) and marked, it stays visible without pretending to a value.

    Input
    -----
    values : array_like of `float`
        Measured error rates (>= 0)

    trials : array_like of `float`
        Trials behind each rate

    Output
    ------
    y : `np.ndarray` of `float`
        ``values``, with zeros replaced by ``1 / trials``

    at_floor : `np.ndarray` of `bool`
        Where ``values`` was zero
    """
    values = np.asarray(values, dtype=float)
    trials = np.asarray(trials, dtype=float)
    if values.shape != trials.shape:
        raise ValueError(f"`values` {values.shape} and `trials` "
                         f"{trials.shape} must have the same shape")
    at_floor = values == 0
    if np.any(trials[at_floor] <= 0):
        raise ValueError(f"`trials` must be > 0 where no errors were "
                         f"counted, got {trials[at_floor].tolist()}")
    return np.where(at_floor, 1.0 / np.where(at_floor, trials, 1.0),
                    values), at_floor


def floor_label(trials, unit):
    """`str` : Legend text of zero-error points, e.g. ``0 errors in 256 blocks (at 1/256)``"""
    counts = sorted({int(n) for n in trials})
    if len(counts) == 1:
        return f"0 errors in {counts[0]:,} {unit} (at 1/{counts[0]:,})"
    return (f"0 errors in N = {'/'.join(f'{n:,}' for n in counts)} {unit} "
            "(at 1/N)")


def legend_label(template, hue, rows):
    """Legend text of one line: ``template`` formatted with its rows' columns

    Input
    -----
    template : `None` | `str`
        ``str.format`` template over table columns, e.g.
        ``"{csi} ({feedback_bits_per_user:,.0f} bits/user)"``; `None`:
        the ``hue`` values joined by commas

    hue : `list` of `str`
        Columns that tell the lines apart

    rows : `pandas.DataFrame`
        The line's rows; every column in ``template`` must be constant
        over them

    Output
    ------
    label : `str`
    """
    if template is None:
        return ", ".join(str(rows[h].iloc[0]) for h in hue)
    fields = {f.split(".")[0].split("[")[0]
              for _, f, _, _ in string.Formatter().parse(template) if f}
    values = {}
    for f in sorted(fields):
        if f not in rows:
            raise ValueError(f"plot legend {template!r}: {f!r} is not a "
                             f"column of the results; columns: "
                             f"{', '.join(rows.columns)}")
        unique = rows[f].unique()
        if len(unique) != 1:
            raise ValueError(f"plot legend {template!r}: {f!r} varies "
                             f"along one line ({list(unique)}); use a hue "
                             "column")
        values[f] = unique[0]
    return template.format(**values)


def line_styles(keys):
    """Colour, line style and marker of every line

    Input
    -----
    keys : `list` of `tuple`
        The lines' hue values, in plotting order (``()`` for no hue)

    Output
    ------
    styles : `dict`
        ``key -> {"color", "ls", "marker"}``: with one hue column a colour
        per line; with more, a colour per value of the first column and a
        line style and marker per combination of the others (e.g. a colour
        per CSI path, a dash pattern per precoder), so that more lines
        than colours stay apart
    """
    cycle = matplotlib.rcParams["axes.prop_cycle"].by_key()["color"]
    if not keys or len(keys[0]) < 2:
        return {k: {"color": cycle[i % len(cycle)], "ls": "-", "marker": "o"}
                for i, k in enumerate(keys)}
    first = list(dict.fromkeys(k[0] for k in keys))
    rest = list(dict.fromkeys(k[1:] for k in keys))
    dashes, markers = ["-", "--", ":", "-."], ["o", "s", "^", "D", "P", "X"]
    return {k: {"color": cycle[first.index(k[0]) % len(cycle)],
                "ls": dashes[rest.index(k[1:]) % len(dashes)],
                "marker": markers[rest.index(k[1:]) % len(markers)]}
            for k in keys}


def plot_results(table, plots, output):
    """One PNG per metric: ``x`` vs metric, a panel per ``facet``, a line per ``hue``

    Categorical columns (see
    :meth:`~lasco_sionna.sweep.config.SweepConfig.display`) keep their
    category order in panels and legends; other values are sorted.

    Input
    -----
    table : `pandas.DataFrame`
        Results (see :class:`~lasco_sionna.sweep.store.ResultStore`)

    plots : `dict`
        ``x`` (column), ``y`` (list of metrics), optional ``facet``
        (column), ``hue`` (list of columns), ``logy`` (metrics drawn on a
        log scale; non-positive values are dropped), ``resolution``
        (``{metric: column of trials}``, e.g. ``{bler: num_blocks}``: a
        log-scale metric's zeros are drawn at ``1 / trials`` with an open
        triangle, legend "0 errors in N blocks"; the unit is the column
        name without ``num_``), ``legend`` (a template of a line's legend
        text, see :func:`legend_label`), ``labels`` (axis names:
        ``{column: text}``; lists of grid-value names are applied by
        :meth:`~lasco_sionna.sweep.config.SweepConfig.display`)

    output : `str`
        Directory of the PNG files

    Output
    ------
    paths : `list` of `str`
        Files written
    """
    if not plots or table.empty:
        return []
    x = plots.get("x")
    if x not in table:
        raise ValueError(f"plot x={x!r} is not a column of the results; "
                         f"columns: {', '.join(table.columns)}")
    facet = plots.get("facet")
    hue = list(plots.get("hue") or [])
    logy = set(plots.get("logy") or [])
    resolution = dict(plots.get("resolution") or {})
    for metric, trials in resolution.items():
        if trials not in table:
            raise ValueError(f"plot resolution of {metric!r}: {trials!r} is "
                             "not a column of the results; columns: "
                             f"{', '.join(table.columns)}")
    names = {k: v for k, v in (plots.get("labels") or {}).items()
             if isinstance(v, str)}
    facets = [None]
    if facet:
        present = set(table[facet])
        facets = [c for c in table[facet].cat.categories if c in present] \
            if isinstance(table[facet].dtype, pd.CategoricalDtype) \
            else sorted(present)
    # One style per hue value in every panel (a facet may lack some): with
    # one hue column a colour per value; with more, a colour per value of
    # the first and a line style and marker per combination of the others
    keys = [k if isinstance(k, tuple) else (k,) for k, _ in
            table.groupby(hue, observed=True)] if hue else [()]
    styles = line_styles(keys)
    paths = []
    for metric in plots.get("y") or []:
        if metric not in table:
            raise ValueError(f"plot y={metric!r} is not a column of the "
                             f"results; columns: {', '.join(table.columns)}")
        fig = Figure(figsize=(4.5 * len(facets), 3.5))
        axes = fig.subplots(1, len(facets), squeeze=False, sharey=True)
        for ax, fval in zip(axes[0], facets):
            sub = table if fval is None else table[table[facet] == fval]
            groups = sub.groupby(hue, observed=True) if hue else [((), sub)]
            floors = []
            for key, g in groups:
                g = g.sort_values(x)
                y = g[metric].to_numpy(dtype=float)
                at_floor = np.zeros(len(y), dtype=bool)
                if metric in logy and metric in resolution:
                    y, at_floor = zero_error_floor(
                        y, g[resolution[metric]].to_numpy(dtype=float))
                    floors.extend(g[resolution[metric]][at_floor])
                keep = y > 0 if metric in logy else np.ones(len(y), bool)
                key = key if isinstance(key, tuple) else (key,)
                # The line passes through the floor; its dots mark measurements
                ax.plot(g[x][keep], y[keep], **styles[key],
                        markevery=list(np.flatnonzero(~at_floor[keep])),
                        label=legend_label(plots.get("legend"), hue, g)
                        if hue else metric)
                # Zero-error points: open triangles over the line's marker,
                # smaller for later lines, so coinciding ones nest
                ax.plot(g[x][at_floor], y[at_floor], ls="", marker="v",
                        ms=13 - 7 * keys.index(key) / max(1, len(keys) - 1),
                        mfc="none", mew=1.5, zorder=3,
                        color=styles[key]["color"])
            if floors:
                ax.plot([], [], ls="", marker="v", ms=9, mfc="none",
                        color="0.3", label=floor_label(
                            floors, resolution[metric].removeprefix("num_")))
            if metric in logy:
                ax.set_yscale("log")
            ax.set_xlabel(names.get(x, x))
            ax.set_title(str(fval) if fval is not None else "")
            ax.grid(True, which="both", alpha=0.3)
        axes[0][0].set_ylabel(names.get(metric, metric))
        fig.tight_layout()
        # One legend for all panels, outside them (long CSI-path labels)
        shared_legend(fig, axes[0])
        path = os.path.join(output, f"{metric}.png")
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
        paths.append(path)
    return paths
