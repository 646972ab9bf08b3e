#
# SPDX-License-Identifier: Apache-2.0
#
"""Plots of a sweep's results table (matplotlib, Agg backend)"""

import os

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  pylint: disable=wrong-import-position

from lasco_sionna.utils.io import atomic_path  # noqa: E402  pylint: disable=wrong-import-position


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


def plot_results(table, plots, output):
    """One PNG per metric: ``x`` vs metric, a panel per ``facet``, a line per ``hue``

    Input
    -----
    table : `pandas.DataFrame`
        Results (see :class:`~lasco_sionna.sweep.store.ResultStore`)

    plots : `dict`
        ``x`` (column), ``y`` (list of metrics), optional ``facet``
        (column), ``hue`` (list of columns), ``logy`` (metrics drawn on a
        log scale; non-positive values are dropped)

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
    facets = sorted(table[facet].unique()) if facet else [None]
    # One colour per hue value in every panel (a facet may lack some)
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    keys = [k if isinstance(k, tuple) else (k,) for k, _ in
            table.groupby(hue)] if hue else [()]
    colours = {k: cycle[i % len(cycle)] for i, k in enumerate(keys)}
    paths = []
    for metric in plots.get("y") or []:
        if metric not in table:
            raise ValueError(f"plot y={metric!r} is not a column of the "
                             f"results; columns: {', '.join(table.columns)}")
        fig, axes = plt.subplots(1, len(facets), squeeze=False,
                                 figsize=(4.5 * len(facets), 3.5),
                                 sharey=True)
        for ax, fval in zip(axes[0], facets):
            sub = table if fval is None else table[table[facet] == fval]
            groups = sub.groupby(hue) if hue else [((), sub)]
            for key, g in groups:
                g = g.sort_values(x)
                y = g[metric]
                if metric in logy:
                    g, y = g[y > 0], y[y > 0]
                key = key if isinstance(key, tuple) else (key,)
                ax.plot(g[x], y, marker="o", color=colours[key],
                        label=", ".join(str(k) for k in key) or metric)
            if metric in logy:
                ax.set_yscale("log")
            ax.set_xlabel(x)
            ax.set_title(str(fval) if fval is not None else "")
            ax.grid(True, which="both", alpha=0.3)
        axes[0][0].set_ylabel(metric)
        fig.tight_layout()
        # One legend for all panels, outside them (long CSI-path labels)
        shared_legend(fig, axes[0])
        path = os.path.join(output, f"{metric}.png")
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        paths.append(path)
    return paths
