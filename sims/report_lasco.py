#!/usr/bin/env python
"""Merge bench_lasco results (several runs / --methods subsets) into tables and plots

    python sims/report_lasco.py results/bench_lasco results/bench_lasco_lam ... \\
        --out results/report_lasco

Writes ``merged.csv`` (with ``vs_lookup_db`` and ``beats_lookup``: each row
against the nearest-neighbour lookup of the same target and sample count,
:func:`versus_lookup`), ``tables.md`` (NMSE, NMSE minus lookup, SGCS, the
per-target truncation floor and R-D references, the gap to the R-D reference in
the image domain, cost including adapted state, forgetting as Markdown pivot
tables; rows of runs that predate the norm bits, which used the true norm, are
named under the NMSE table), ``summary.md`` (per target, every method's
payload, adapted state, adaptation time and NMSE at ``--summary-samples``,
with the sum-rate and BLER of a link sweep given by ``--link``),
``nmse_vs_samples.png`` (NMSE
against the number of target samples, one panel per target; methods without
training are drawn as horizontal lines) and, from the runs' ``history.csv``,
``nmse_vs_steps.png`` plus a table of the validation NMSE at steps 0, 100, 300
and 1,000 (adaptation speed), and ``goals.md`` / ``goals.csv``: the adaptation goals
evaluated per target from the merged rows (:func:`goals`). Rows measured twice
keep the latest run (directories later on the command line win).
"""

import argparse
import os

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from lasco_sionna.collab.methods import method_name, methods_of  # noqa: E402
from lasco_sionna.sweep.plots import shared_legend  # noqa: E402
from lasco_sionna.utils.io import atomic_path  # noqa: E402

KEY = ["target", "samples", "method"]
#: The LASCO / E-LASCO family (the methods the goals are about)
COLLAB = methods_of("collab")
#: Models trained on target data alone
TARGET_ONLY = ("lmmse_target", "sam_scratch", "csinet", "crnet")
#: Codebooks: their gains are inside their payload (no separate norm)
CODEBOOKS = ("type1", "etype2", "etype2_matched")


def with_method_names(table):
    """A copy of ``table`` whose ``method`` column holds the current names
    (older runs wrote older ones,
    :data:`lasco_sionna.collab.methods.METHOD_ALIASES`)"""
    return table.assign(method=table.method.map(method_name))


def versus_lookup(table):
    """Each row against the lookup baseline of its target and sample count

    Input
    -----
    table : `pandas.DataFrame`
        Merged results (``target``, ``samples``, ``method``, ``nmse_db``)

    Output
    ------
    table : `pandas.DataFrame`
        A copy with ``vs_lookup_db`` (``nmse_db`` minus the ``lookup``
        row's, < 0 beats it) and ``beats_lookup`` (`bool`); both NaN where
        there is no lookup row (and on the lookup rows)
    """
    table = with_method_names(table)
    out = table.copy()
    look = table[table.method == "lookup"].drop_duplicates(
        ["target", "samples"], keep="last").set_index(
            ["target", "samples"]).nmse_db
    ref = pd.Series([look.get((t, n), float("nan")) for t, n in
                     zip(table.target, table.samples)], index=table.index)
    ref[table.method == "lookup"] = float("nan")
    out["vs_lookup_db"] = table.nmse_db - ref
    out["beats_lookup"] = (out.vs_lookup_db < 0).astype(object).where(
        out.vs_lookup_db.notna())
    return out


def goals(table, n_large=3000, max_small=300, min_closure=0.9,
          max_param_fraction=1 / 30, max_time_fraction=1 / 5, min_sgcs=1.1,
          tol_db=1e-3):
    """The adaptation goals per target from merged bench_lasco rows

    Never worse than the LAM zero-shot; at ``n_large`` samples, closing
    ``min_closure`` of the gap between zero-shot and full fine-tuning with
    at most ``max_param_fraction`` of its parameters and
    ``max_time_fraction`` of its time; at few samples, beating fine-tuning
    and every target-only model; beating the nearest-neighbour lookup;
    SGCS at least ``min_sgcs`` times eType II at equal payload; no
    forgetting on the sources.

    Only measured rows count: a goal whose baseline is missing (or NaN) reads
    ``not measured``, never met. "Beats lookup" is judged at every sample count
    with a ``lookup`` row (the nearest-neighbour baseline). The rows must all
    come from the same LAM and reference SAM (merge only runs of one model
    pair).

    Input
    -----
    table : `pandas.DataFrame`
        Merged results (columns ``target``, ``samples``, ``method``,
        ``nmse_db``, ``sgcs``, ``trainable``, ``wall_time_s`` and, for
        the forgetting goal, ``source_nmse_db``, ``source_nmse_before_db``,
        ``lam_untouched``)

    n_large : `int`
        Sample count of the gap-closure goal

    max_small : `int`
        The few-sample goal is checked at every measured count <= this

    min_closure, max_param_fraction, max_time_fraction, min_sgcs : `float`
        The goals' thresholds

    tol_db : `float`
        Float rounding allowed by "never worse than zero-shot" [dB] (a
        form that keeps the unadapted model recomputes it through another
        graph)

    Output
    ------
    goals : `pandas.DataFrame`
        One row per (goal, target): ``goal``, ``target``, ``status``
        ("met" | "missed" | "not measured") and ``detail`` (the numbers)
    """
    table = with_method_names(table.dropna(subset=["nmse_db"]))

    def row(t, n, m):
        r = table[(table.target == t) & (table.samples == n)
                  & (table.method == m)]
        return None if r.empty else r.iloc[-1]

    def state(r):
        # Adapted state: trained parameters + numbers estimated from target
        # data (e.g. a linear proxy's LMMSE gain); the trained count where a
        # row does not record it
        v = r.get("adapted_state")
        return r.trainable if v is None or pd.isna(v) else v

    def cost(b, ft):
        return (f"{100 * state(b) / state(ft):.2g}% of the adapted state "
                f"in {100 * b.wall_time_s / ft.wall_time_s:.2g}% of the time")

    out = []
    for t in sorted(table.target.unique()):
        zs = row(t, 0, "lam_zero_shot")
        tt = table[table.target == t]
        collab = tt[tt.method.isin(COLLAB)]
        # 1. Never worse than the LAM zero-shot
        name = "never worse than zero-shot"
        if zs is None or collab.empty:
            out.append((name, t, "not measured", ""))
        else:
            excess = collab.nmse_db - zs.nmse_db
            worst = collab.loc[excess.idxmax()]
            out.append((name, t,
                        "met" if excess.max() <= tol_db else "missed",
                        f"worst {worst.method} n={worst.samples}: "
                        f"{excess.max():+.3f} dB vs {zs.nmse_db:.2f} "
                        f"({len(collab)} rows)"))
        # 2. Gap closure at n_large, at a fraction of the parameters and time
        name = f"closes >= {min_closure:.0%} of the gap at n={n_large}"
        ft = row(t, n_large, "lam_full_ft")
        big = collab[collab.samples == n_large].dropna(
            subset=["trainable", "wall_time_s"])
        if zs is None or ft is None or big.empty:
            out.append((name, t, "not measured", ""))
        elif zs.nmse_db - ft.nmse_db <= 0:
            # Fine-tuning is no better than zero-shot: no gap to close
            b = big.loc[big.nmse_db.idxmin()]
            out.append((name, t,
                        "met" if b.nmse_db <= ft.nmse_db else "missed",
                        f"no gap: fine-tuning {ft.nmse_db:.2f} vs zero-shot "
                        f"{zs.nmse_db:.2f} dB; {b.method} {b.nmse_db:.2f}"))
        else:
            closure = (zs.nmse_db - big.nmse_db) / (zs.nmse_db - ft.nmse_db)
            ok = (closure >= min_closure) \
                & (big.trainable <= max_param_fraction * ft.trainable) \
                & (big.wall_time_s <= max_time_fraction * ft.wall_time_s)
            # The cheapest form that meets it, else the most accurate one
            b = big[ok].sort_values("trainable").iloc[0] if ok.any() \
                else big.loc[big.nmse_db.idxmin()]
            out.append((name, t, "met" if ok.any() else "missed",
                        f"{b.method} {b.nmse_db:.2f} closes "
                        f"{closure[b.name]:.0%} of {zs.nmse_db:.2f} -> "
                        f"{ft.nmse_db:.2f} dB with {cost(b, ft)}"))
        # 3. Few samples: beats full fine-tuning and every target-only model
        for n in sorted(n for n in collab.samples.unique()
                        if 0 < n <= max_small):
            b = collab[collab.samples == n]
            b = b.loc[b.nmse_db.idxmin()]
            rivals = {m: row(t, n, m) for m in ("lam_full_ft",) + TARGET_ONLY}
            missing = [m for m, r in rivals.items() if r is None]
            rivals = [r for r in rivals.values() if r is not None]
            name = f"beats fine-tuning and target-only at n={n}"
            if not rivals:
                out.append((name, t, "not measured", ""))
                continue
            r = min(rivals, key=lambda r: r.nmse_db)
            status = "missed" if r.nmse_db <= b.nmse_db else \
                ("met" if not missing else "not measured")
            out.append((name, t, status,
                        f"{b.method} {b.nmse_db:.2f} vs best rival "
                        f"{r.method} {r.nmse_db:.2f} dB"
                        + (f"; not measured: {', '.join(missing)}"
                           if missing else "")))
        # 4. The best LASCO / E-LASCO form beats the nearest-neighbour
        # lookup of the same target data (else it memorises, not learns)
        for n in sorted(tt[tt.method == "lookup"].samples.unique()):
            look = row(t, n, "lookup")
            b = collab[collab.samples == n]
            name = f"beats lookup at n={n}"
            if b.empty:
                out.append((name, t, "not measured", ""))
                continue
            losers = b[b.nmse_db >= look.nmse_db].method.tolist()
            b = b.loc[b.nmse_db.idxmin()]
            out.append((name, t,
                        "met" if b.nmse_db < look.nmse_db else "missed",
                        f"{b.method} {b.nmse_db:.2f} vs lookup "
                        f"{look.nmse_db:.2f} dB"
                        + (f"; not beating it: {', '.join(losers)}"
                           if losers else "")))
        # 5. SGCS above the eType II-like codebook at equal payload
        name = f"SGCS >= {min_sgcs:.2f} x eType II"
        e = row(t, 0, "etype2_matched")
        r = collab.dropna(subset=["sgcs"])
        if e is None or pd.isna(e.sgcs) or r.empty:
            out.append((name, t, "not measured", ""))
        else:
            b = r.loc[r.sgcs.idxmax()]
            out.append((name, t,
                        "met" if b.sgcs >= min_sgcs * e.sgcs else "missed",
                        f"{b.method} n={b.samples} {b.sgcs:.3f} vs "
                        f"{e.sgcs:.3f} ({b.sgcs / e.sgcs - 1:+.1%})"))
        # 6. No forgetting: the source NMSE exactly unchanged after every
        # LASCO / E-LASCO row, and the LAM bit-identical where checked
        name = "no forgetting"
        cols = {"source_nmse_db", "source_nmse_before_db", "lam_untouched"}
        measured = collab.dropna(subset=["source_nmse_db",
                                         "source_nmse_before_db"]) \
            if cols <= set(collab.columns) else collab.iloc[:0]
        if measured.empty:
            out.append((name, t, "not measured", ""))
            continue
        change = (measured.source_nmse_db
                  - measured.source_nmse_before_db).abs().max()
        checked = measured.lam_untouched.dropna().astype(str).str.lower()
        ok = change == 0 and checked.eq("true").all()
        out.append((name, t, "met" if ok else "missed",
                    f"largest source NMSE change {change:.3f} dB over "
                    f"{len(measured)}/{len(collab)} rows; LAM bit-identical "
                    f"in {int(checked.eq('true').sum())}/{len(checked)} "
                    "rows that check it"))
    return pd.DataFrame(out, columns=["goal", "target", "status", "detail"])


def references_md(table):
    """Markdown table, one row per target: the learned payload with its
    norm bits, the truncation floor and the R-D references (image domain,
    and with the floor in the spatial-frequency domain); empty if no run
    recorded them"""
    cols = ["payload_bits", "norm_bits", "trunc_floor_db", "rd_nmse_db",
            "rd_sf_nmse_db"]
    if not set(cols) <= set(table.columns):
        return ""
    rows = table[~table.method.isin(CODEBOOKS)].dropna(subset=cols)
    lines = ["| target | payload [bit] | of which norm | truncation floor "
             "[dB] | R-D, 32-tap image [dB] | R-D + floor, SF [dB] |",
             "|---|---:|---:|---:|---:|---:|"]
    for target, g in rows.groupby("target"):
        r = g.iloc[-1]
        lines.append(f"| {target} | {r.payload_bits:.0f} | "
                     f"{r.norm_bits:.0f} | {r.trunc_floor_db:.2f} | "
                     f"{r.rd_nmse_db:.2f} | {r.rd_sf_nmse_db:.2f} |")
    return "\n".join(lines) if len(lines) > 2 else ""


def true_norm_note(table):
    """Which rows used the true norm: learned rows without ``norm_bits``
    (runs before the norm was fed back as the link does)"""
    bits = table.norm_bits if "norm_bits" in table else \
        pd.Series(float("nan"), index=table.index)
    old = table[bits.isna() & ~table.method.isin(CODEBOOKS)]
    if old.empty:
        return "Every learned row uses the norm as fed back (quantised, " \
            "its bits in the payload)."
    return ("True norm (not fed back, its bits not in the payload) in: "
            + ", ".join(sorted({f"{r.target}/{r.method}"
                                for r in old.itertuples()})) + ".")


def pivot_md(table, value, fmt="{:.2f}"):
    """Markdown pivot: rows (target, samples), columns methods ("" if
    ``table`` has no rows)"""
    if table.empty:
        return ""
    p = table.pivot_table(index=["target", "samples"], columns="method",
                          values=value, aggfunc="last")
    lines = ["| target | n | " + " | ".join(p.columns) + " |",
             "|---|---:|" + "---:|" * len(p.columns)]
    for (target, n), row in p.iterrows():
        cells = ["" if pd.isna(v) else fmt.format(v) for v in row]
        lines.append(f"| {target} | {n} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


#: Row order and labels of the per-target summary
SUMMARY_LABELS = {
    "perfect": "perfect CSI",
    "type1": "Type I (O=4)",
    "etype2": "eType II (4 beams)",
    "etype2_matched": "eType II at the learned payload",
    "etype2_link": "eType II (8 beams x 8 subbands)",
    "lookup": "nearest-neighbour lookup",
    "lam_zero_shot": "LAM zero-shot",
    "sam_ref_zero_shot": "reference SAM zero-shot",
    "lmmse_source": "LMMSE, source covariance",
    "lmmse_target": "LMMSE, target covariance",
    "sam_scratch": "SAM trained on the target alone",
    "csinet": "CsiNet-style, target alone",
    "crnet": "CRNet-style, target alone",
    "lasco_linear": "LASCO, linear SAMs",
    "elasco_linear": "E-LASCO, linear SAMs + LS coefficients",
    "elasco_tap_on_lasco_linear": "E-LASCO per tap (trained) on LASCO linear",
    "elasco_tap_on_elasco_linear": "E-LASCO per tap (trained) on E-LASCO linear",
    "lasco": "LASCO (trained proxy SAM)",
    "elasco_scalar": "E-LASCO scalar (trained)",
    "elasco_tap": "E-LASCO per tap (trained)",
    "elasco_antenna": "E-LASCO per angle (trained)",
    "proxy_alone": "proxy SAM alone (ablation)",
    "lam_lora": "LAM LoRA fine-tuning",
    "lam_last_block_ft": "LAM last-block fine-tuning",
    "lam_full_ft": "LAM full fine-tuning"}


def link_method(csi):
    """``(method, samples)`` of a link sweep's ``csi`` label, e.g.
    ``adapted(method=elasco_linear,model=lam-cr16,num_samples=300,...)`` ->
    ``("elasco_linear", 300)``; eType II gets ``"etype2_link"`` (its link
    configuration differs from the NMSE benchmark's)"""
    name, _, rest = str(csi).partition("(")
    params = dict(kv.split("=", 1) for kv in rest.rstrip(")").split(",")
                  if "=" in kv)
    if name == "adapted":
        return method_name(params["method"]), int(params.get("num_samples",
                                                             300))
    return {"pretrained": "lam_zero_shot", "etype2": "etype2_link"}.get(
        name, name), 0


def summary_md(table, link=None, samples=(300, 3000), ebno_db=10.0):
    """Per target, one Markdown table: each method's payload, adapted state
    and adaptation time at the largest of ``samples``, its test NMSE at each
    of ``samples`` (methods without adaptation: "any n") and, from a link
    sweep (``link``: its results table), the sum-rate and BLER at
    ``ebno_db`` of the method as the link ran it (adapted paths at their own
    ``num_samples``)"""
    if link is not None:
        link = link[link.ebno_db == ebno_db].assign(
            method=[link_method(c)[0] for c in
                    link[link.ebno_db == ebno_db].csi])
    out = []
    for target in sorted(table.target.unique()):
        t = table[table.target == target]
        lk = None if link is None else link[link.environment == target]
        head = ["method", "bits", f"adapted state (n = {samples[-1]:,})",
                f"adaptation [s] (n = {samples[-1]:,})"] + \
            [f"NMSE n = {n:,} [dB]" for n in samples]
        if lk is not None and len(lk):
            head += [f"sum-rate at {ebno_db:g} dB", f"BLER at {ebno_db:g} dB"]
        lines = [f"**{target}**", "", "| " + " | ".join(head) + " |",
                 "|---|" + "---:|" * (len(head) - 1)]
        methods = [m for m in SUMMARY_LABELS
                   if m in set(t.method) or (lk is not None
                                             and m in set(lk.method))]
        for m in methods:
            rows = t[t.method == m]
            fixed = rows[rows.samples == 0]
            big = rows[rows.samples == samples[-1]]
            ref = (fixed if len(fixed) else big).tail(1)
            cells = [SUMMARY_LABELS[m]]
            if len(ref):
                r = ref.iloc[0]
                bits = r.get("payload_bits")
                cells += ["" if pd.isna(bits) else f"{bits:,.0f}",
                          f"{r.get('adapted_state', 0) or 0:,.0f}",
                          "" if len(fixed) else f"{r.wall_time_s:,.0f}"]
            else:
                r = None if lk is None else lk[lk.method == m]
                bits = "" if r is None or not len(r) or m == "perfect" \
                    else f"{r.feedback_bits_per_user.iloc[-1]:,.0f}"
                cells += [bits, "", ""]
            for n in samples:
                if len(fixed):
                    cells.append(f"(any n) {fixed.nmse_db.iloc[-1]:.2f}"
                                 if n == samples[0] else "")
                    continue
                v = rows[rows.samples == n].nmse_db
                cells.append(f"{v.iloc[-1]:.2f}" if len(v) else "")
            if lk is not None and len(lk):
                r = lk[lk.method == m]
                if len(r):
                    r = r.iloc[-1]
                    bler = f"{r.bler:.3f}" if r.bler > 0 else \
                        f"0 in {r.num_blocks:.0f}"
                    cells += [f"{r.sum_rate:.1f}", bler]
                else:
                    cells += ["", ""]
            lines.append("| " + " | ".join(cells) + " |")
        out.append("\n".join(lines))
    return "\n\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", help="bench_lasco output directories")
    ap.add_argument("--out", default="results/report_lasco")
    ap.add_argument("--link", default=None,
                    help="a link sweep's output directory (its results.csv "
                         "joins the per-target summary)")
    ap.add_argument("--summary-samples", type=int, nargs="+",
                    default=[300, 3000], metavar="N",
                    help="sample counts of the per-target summary")
    ap.add_argument("--ebno-db", type=float, default=10.0,
                    help="Eb/N0 of the link columns of the summary")
    args = ap.parse_args()
    parts = []
    for run in args.runs:
        path = os.path.join(run, "results.csv")
        if not os.path.exists(path):
            raise FileNotFoundError(f"no results.csv in {run!r}")
        parts.append(with_method_names(pd.read_csv(path)))
    table = versus_lookup(pd.concat(parts, ignore_index=True)
                          .drop_duplicates(KEY, keep="last"))
    os.makedirs(args.out, exist_ok=True)
    with atomic_path(os.path.join(args.out, "merged.csv")) as p:
        table.to_csv(p, index=False)
    trained = table[table.samples > 0]
    sections = [
        ("NMSE [dB] (test, spatial-frequency domain)",
         pivot_md(table, "nmse_db") + "\n\n" + true_norm_note(table)),
        ("NMSE minus the nearest-neighbour lookup [dB] (< 0: beats it)",
         pivot_md(table.dropna(subset=["vs_lookup_db"]), "vs_lookup_db")),
        ("SGCS", pivot_md(table, "sgcs", "{:.3f}")),
        ("Truncation floor and rate-distortion references per target",
         references_md(table)),
        ("Trainable parameters", pivot_md(trained, "trainable", "{:,.0f}")),
        ("Wall time [s]", pivot_md(trained, "wall_time_s", "{:.0f}")),
        ("Training GFLOPs", pivot_md(trained, "train_gflops", "{:,.0f}")),
    ]
    if "image_nmse_db" in table:
        # Like with like: both on the unit-norm 32-tap image
        gap = table.dropna(subset=["image_nmse_db", "rd_nmse_db"])
        sections.append(("Gap to the R-D reference [dB] (32-tap image "
                         "domain, at the image bits)", pivot_md(
                             gap.assign(gap_db=gap.image_nmse_db
                                        - gap.rd_nmse_db), "gap_db")))
    if "adapted_state" in table:
        sections.append(("Adapted state (trainable parameters + target-"
                         "estimated entries: LMMSE proxy gain, lookup table)",
                         pivot_md(trained.dropna(subset=["adapted_state"]),
                                  "adapted_state", "{:,.0f}")))
    if "source_nmse_db" in table:
        sections.append(("Source NMSE after the method [dB] (forgetting)",
                         pivot_md(table.dropna(subset=["source_nmse_db"]),
                                  "source_nmse_db")))
    text = "\n\n".join(f"#### {title}\n\n{body}" for title, body in sections
                       if body)
    with atomic_path(os.path.join(args.out, "tables.md")) as p:
        with open(p, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    link = None
    if args.link is not None:
        path = os.path.join(args.link, "results.csv")
        if not os.path.exists(path):
            raise FileNotFoundError(f"no results.csv in --link {args.link!r}")
        link = pd.read_csv(path)
    with atomic_path(os.path.join(args.out, "summary.md")) as p:
        with open(p, "w", encoding="utf-8") as f:
            f.write(summary_md(table, link, tuple(args.summary_samples),
                               args.ebno_db) + "\n")
    status = goals(table)
    with atomic_path(os.path.join(args.out, "goals.csv")) as p:
        status.to_csv(p, index=False)
    with atomic_path(os.path.join(args.out, "goals.md")) as p:
        with open(p, "w", encoding="utf-8") as f:
            f.write("| goal | target | status | detail |\n|---|---|---|---|\n"
                    + "".join(f"| {r.goal} | {r.target} | {r.status} | "
                              f"{r.detail} |\n" for r in status.itertuples()))
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
    hist = [with_method_names(pd.read_csv(os.path.join(run, "history.csv")))
            for run in args.runs
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
