#!/usr/bin/env python
"""Share of the aging loss that prediction recovers, per CSI path, from paired prediction link sweeps

    python sims/report_prediction_link.py results/prediction_link_paths \\
        results/prediction_link_paths_ctp --out results/prediction_link_paths

Reads the ``results.csv`` (and ``config.yaml``, for readable names) of
sweeps of ``lasco_sionna.link.point:evaluate_point`` with ``csi``,
``predictor`` and ``feedback_delay`` grid keys, e.g.
``sims/configs/prediction_link_paths.yaml``. For every predicted point
(predictor other than ``hold``) at a delay > 0::

    recovered = (predicted - aged) / (reference - aged)

of the sum-rate, where *aged* is the same CSI path with ``predictor: hold``
at the same speed and delay and *reference* the same CSI path at delay 0
(where every predictor and order is that path on the last report; the rows
must agree). With ``paired`` sweeps of one seed, all three are the same
UEs, bits and noise. Writes ``<out>/recovered.csv`` and prints a Markdown
table.
"""

import argparse
import os

import numpy as np
import pandas as pd
import yaml

from lasco_sionna.sweep.config import parse_config
from lasco_sionna.utils.io import atomic_path

#: Grid keys that name one CSI path (besides the predictor and the delay)
PATH_KEYS = ("ue_speed_kmh", "csi")


def load(directory):
    """One sweep's results with raw ``predictor`` values and readable names (``*_name`` columns)"""
    with open(os.path.join(directory, "config.yaml"), encoding="utf-8") as f:
        config = parse_config(yaml.safe_load(f), source=directory)
    raw = pd.read_csv(os.path.join(directory, "results.csv"))
    shown = config.display(raw)
    for key in ("csi", "predictor", "prediction"):
        if key in raw:
            raw[f"{key}_name"] = shown[key].astype(str)
    return raw


def recovered(table, atol=1e-9):
    """Rows of predicted points with their aged and reference values

    Input
    -----
    table : `pandas.DataFrame`
        Results of one or more sweeps (:func:`load`), with columns
        ``ue_speed_kmh, csi, predictor, feedback_delay, sum_rate, bler,
        csi_nmse_db`` and the ``*_name`` columns

    atol : `float`
        Tolerance on the agreement of the delay-0 rows of a CSI path

    Output
    ------
    rows : `pandas.DataFrame`
        ``speed, csi, order, predictor, delay``, the reference, aged and
        predicted sum-rate, BLER and CSI NMSE, and ``recovered`` (a share)
    """
    out = []
    for key, path in table.groupby(list(PATH_KEYS), sort=False):
        ref = path[path.feedback_delay == 0]
        if ref.empty:
            raise ValueError(f"{dict(zip(PATH_KEYS, key))}: no delay-0 "
                             "reference")
        if np.ptp(ref.sum_rate) > atol:
            raise ValueError(f"{dict(zip(PATH_KEYS, key))}: the delay-0 rows "
                             f"differ ({sorted(ref.sum_rate)}): not one draw")
        r = ref.iloc[0]
        for _, p in path[(path.feedback_delay > 0)
                         & (path.predictor != "hold")].iterrows():
            aged = path[(path.feedback_delay == p.feedback_delay)
                        & (path.predictor == "hold")]
            if aged.empty:
                raise ValueError(f"{dict(zip(PATH_KEYS, key))}, delay "
                                 f"{p.feedback_delay}: no aged (hold) row")
            if np.ptp(aged.sum_rate) > atol:
                raise ValueError(f"{dict(zip(PATH_KEYS, key))}, delay "
                                 f"{p.feedback_delay}: the aged (hold) rows "
                                 f"differ ({sorted(aged.sum_rate)}): not one "
                                 "draw, or another grid key varies")
            a = aged.iloc[0]
            loss = r.sum_rate - a.sum_rate
            out.append({
                "ue_speed_kmh": p.ue_speed_kmh, "csi": p.csi_name,
                "order": p.get("prediction_name", ""),
                "predictor": p.predictor_name,
                "feedback_delay": int(p.feedback_delay),
                "reference_sum_rate": r.sum_rate, "aged_sum_rate": a.sum_rate,
                "predicted_sum_rate": p.sum_rate,
                "recovered": (p.sum_rate - a.sum_rate) / loss if loss > 0
                else np.nan,
                "reference_bler": r.bler, "aged_bler": a.bler,
                "predicted_bler": p.bler,
                "reference_csi_nmse_db": r.csi_nmse_db,
                "aged_csi_nmse_db": a.csi_nmse_db,
                "predicted_csi_nmse_db": p.csi_nmse_db})
    return pd.DataFrame(out)


def _db(value):
    """`str` : A CSI NMSE [dB], "exact" for -inf"""
    return "exact" if value == -np.inf else f"{value:.1f}"


def markdown(rows):
    """`str` : The table as Markdown (sum-rate [bit/s/Hz], BLER, CSI NMSE [dB], recovered [%])"""
    lines = ["| CSI path | order | predictor | delay | sum-rate ref / aged / "
             "predicted | BLER ref / aged / predicted | CSI NMSE ref / aged / "
             "predicted [dB] | recovered |",
             "|---|---|---|---:|---|---|---|---:|"]
    for _, r in rows.iterrows():
        lines.append(
            f"| {r.csi} | {r.order} | {r.predictor} | {r.feedback_delay} | "
            f"{r.reference_sum_rate:.2f} / {r.aged_sum_rate:.2f} / "
            f"{r.predicted_sum_rate:.2f} | {r.reference_bler:.3g} / "
            f"{r.aged_bler:.3g} / {r.predicted_bler:.3g} | "
            f"{_db(r.reference_csi_nmse_db)} / {_db(r.aged_csi_nmse_db)} / "
            f"{_db(r.predicted_csi_nmse_db)} | {100 * r.recovered:.0f} % |")
    return "\n".join(lines)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dirs", nargs="+", help="sweep output directories")
    ap.add_argument("--out", help="write recovered.csv here")
    args = ap.parse_args(argv)
    rows = recovered(pd.concat([load(d) for d in args.dirs],
                               ignore_index=True))
    if args.out:
        with atomic_path(os.path.join(args.out, "recovered.csv")) as tmp:
            rows.to_csv(tmp, index=False)
    print(markdown(rows))


if __name__ == "__main__":
    main()
