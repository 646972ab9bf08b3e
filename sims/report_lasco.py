#!/usr/bin/env python
"""Merge bench_lasco results (several runs / --methods subsets) into tables and plots

    python sims/report_lasco.py results/bench_lasco results/bench_lasco_lam ... \\
        --out results/report_lasco

Writes ``merged.csv``, ``tables.md`` (NMSE, SGCS, cost, forgetting as
Markdown pivot tables), ``nmse_vs_samples.png`` (measurement c: NMSE
against the number of target samples, one panel per target; methods
without training are drawn as horizontal lines) and, from the runs'
``history.csv``, ``nmse_vs_steps.png`` plus a table of the validation NMSE
at steps 0, 100, 300 and 1,000 (measurement d). Rows measured twice keep
the latest run (directories later on the command line win).
"""

import argparse
import os

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from lasco_sionna.sweep.plots import shared_legend  # noqa: E402
from lasco_sionna.utils.io import atomic_path  # noqa: E402

KEY = ["target", "samples", "method"]


def pivot_md(table, value, fmt="{:.2f}"):
    """Markdown pivot: rows (target, samples), columns methods"""
    p = table.pivot_table(index=["target", "samples"], columns="method",
                          values=value, aggfunc="last")
    lines = ["| target | n | " + " | ".join(p.columns) + " |",
             "|---|---:|" + "---:|" * len(p.columns)]
    for (target, n), row in p.iterrows():
        cells = ["" if pd.isna(v) else fmt.format(v) for v in row]
        lines.append(f"| {target} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", help="bench_lasco output directories")
    ap.add_argument("--out", default="results/report_lasco")
    args = ap.parse_args()
    parts = []
    for run in args.runs:
        path = os.path.join(run, "results.csv")
        if not os.path.exists(path):
            raise FileNotFoundError(f"no results.csv in {run!r}")
        parts.append(pd.read_csv(path))
    table = pd.concat(parts, ignore_index=True).drop_duplicates(KEY,
                                                                keep="last")
    os.makedirs(args.out, exist_ok=True)
    with atomic_path(os.path.join(args.out, "merged.csv")) as p:
        table.to_csv(p, index=False)
    trained = table[table.samples > 0]
    sections = [
        ("NMSE [dB] (test, spatial-frequency domain)",
         pivot_md(table, "nmse_db")),
        ("SGCS", pivot_md(table, "sgcs", "{:.3f}")),
        ("Trainable parameters", pivot_md(trained, "trainable", "{:,.0f}")),
        ("Wall time [s]", pivot_md(trained, "wall_time_s", "{:.0f}")),
        ("Training GFLOPs", pivot_md(trained, "train_gflops", "{:,.0f}")),
    ]
    if "source_nmse_db" in table:
        sections.append(("Source NMSE after the method [dB] (forgetting)",
                         pivot_md(table.dropna(subset=["source_nmse_db"]),
                                  "source_nmse_db")))
    text = "\n\n".join(f"#### {title}\n\n{body}" for title, body in sections)
    with atomic_path(os.path.join(args.out, "tables.md")) as p:
        with open(p, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    targets = sorted(table.target.unique())
    # One colour per method in every panel
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    markers = "osD^v<>"
    styles = {m: (cycle[i % len(cycle)], markers[i // len(cycle) % 7])
              for i, m in enumerate(sorted(trained.method.unique()))}
    fig, axes = plt.subplots(1, len(targets), figsize=(4.2 * len(targets), 3.8),
                             squeeze=False)
    for ax, target in zip(axes[0], targets):
        t = table[table.target == target]
        for method, g in t[t.samples > 0].groupby("method"):
            g = g.sort_values("samples")
            color, marker = styles[method]
            ax.plot(g.samples, g.nmse_db, "-", marker=marker, color=color,
                    label=method)
        for method in ("lam_zero_shot", "lmmse_source", "sam_ref_zero_shot"):
            row = t[(t.method == method) & (t.samples == 0)]
            if len(row):
                ax.axhline(row.nmse_db.iloc[0], ls="--", lw=1,
                           color="k" if method == "lam_zero_shot" else "gray",
                           label=method)
        ax.set(xscale="log", xlabel="target samples", ylabel="NMSE [dB]",
               title=target)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    shared_legend(fig, axes[0])
    with atomic_path(os.path.join(args.out, "nmse_vs_samples.png")) as p:
        fig.savefig(p, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    hist = [pd.read_csv(os.path.join(run, "history.csv")) for run in args.runs
            if os.path.exists(os.path.join(run, "history.csv"))]
    if hist:
        steps_md = plot_histories(pd.concat(hist, ignore_index=True)
                                  .drop_duplicates(KEY + ["step"],
                                                   keep="last"),
                                  styles, args.out)
        text += "\n\n#### Validation NMSE [dB] vs adaptation step\n\n" \
            + steps_md
        with atomic_path(os.path.join(args.out, "tables.md")) as p:
            with open(p, "w", encoding="utf-8") as f:
                f.write(text + "\n")
    print(text)


def plot_histories(hist, styles, out):
    """NMSE vs step (a row of panels per sample count, a panel per target)
    -> ``nmse_vs_steps.png``; returns a Markdown table of the validation
    NMSE at steps 0, 100, 300, 1000"""
    targets = sorted(hist.target.unique())
    counts = sorted(hist.samples.unique())
    fig, axes = plt.subplots(len(counts), len(targets), squeeze=False,
                             figsize=(4.2 * len(targets), 3.2 * len(counts)))
    for i, n in enumerate(counts):
        for ax, target in zip(axes[i], targets):
            t = hist[(hist.target == target) & (hist.samples == n)]
            for method, g in t.groupby("method"):
                color, marker = styles.get(method, ("k", "o"))
                ax.plot(g.step, g.val_nmse_db, "-", marker=marker, ms=3,
                        color=color, label=method)
            ax.set(xlabel="adaptation step", ylabel="validation NMSE [dB]",
                   title=f"{target}, n={n}")
            ax.grid(alpha=0.3)
    fig.tight_layout()
    shared_legend(fig, axes.ravel())
    with atomic_path(os.path.join(out, "nmse_vs_steps.png")) as p:
        fig.savefig(p, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    marks = [0, 100, 300, 1000]
    at = hist[hist.step.isin(marks)].pivot_table(
        index=["target", "samples", "method"], columns="step",
        values="val_nmse_db", aggfunc="last")
    lines = ["| target | n | method | " + " | ".join(
        f"step {m}" for m in at.columns) + " |",
        "|---|---:|---|" + "---:|" * len(at.columns)]
    for (target, n, method), row in at.iterrows():
        cells = ["" if pd.isna(v) else f"{v:.2f}" for v in row]
        lines.append(f"| {target} | {n} | {method} | " + " | ".join(cells)
                     + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
