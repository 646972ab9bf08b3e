#!/usr/bin/env python
"""How distinct test channels are from training ones, for every source dataset of a pretraining config

    python sims/report_datasets.py sims/configs/lam_cr16.yaml --out results/datasets

Loads (or builds) each source dataset exactly as ``sims/pretrain.py`` does
(:func:`lasco_sionna.models.source_datasets`)
and writes one row of :meth:`~lasco_sionna.channels.ChannelDataset.describe`
per source to ``<out>/datasets.csv``: split sizes, samples left out
(duplicates, guard band), distinct positions, minimum and median distance
of a test UE to its nearest training UE, and the nearest-neighbour NMSE of
test channels against the training channels.
"""

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pandas as pd  # noqa: E402
import yaml  # noqa: E402

from lasco_sionna.models import source_datasets  # noqa: E402
from lasco_sionna.utils.io import atomic_path  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config", help="pretraining config (sims/configs/*.yaml)")
    ap.add_argument("--out", default="results/datasets")
    ap.add_argument("--max-queries", type=int, default=200,
                    help="test samples whose nearest training channel is "
                         "searched")
    args = ap.parse_args()
    with open(args.config, encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    rows = []
    for label, _, ds in source_datasets(cfg, progress=False):
        rep = ds.describe(max_queries=args.max_queries)
        rule = rep.pop("split_rule")
        rows.append({"source": label,
                     "split_rule": rule["rule"], **rep,
                     "rule_params": json.dumps(rule, sort_keys=True)})
        print({k: (round(v, 2) if isinstance(v, float) else v)
               for k, v in rows[-1].items() if k != "rule_params"},
              flush=True)
    os.makedirs(args.out, exist_ok=True)
    with atomic_path(os.path.join(args.out, "datasets.csv")) as tmp:
        pd.DataFrame(rows).to_csv(tmp, index=False)


if __name__ == "__main__":
    main()
