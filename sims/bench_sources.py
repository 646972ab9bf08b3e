#!/usr/bin/env python
"""Source environments: shipped LAM and reference SAM vs linear decoders and the rate-distortion reference

    python sims/bench_sources.py --lam lam-cr16 --sam sam-ref-cr16 --out results/bench_sources

On the validation and test images of every source environment of the
LAM's pretraining config (the splits ``sims/pretrain.py`` validates on and
never touches; ray-traced sources are split by location, so test UEs are
places no model trained on):

* ``coarse``: the coarse inversion ``x0`` alone;
* ``lmmse_pooled``: the LMMSE decoder with the pooled covariance of all
  source training images (what the LAM's lift starts from);
* ``lmmse_own``: the LMMSE decoder with the environment's *own* training
  covariance -- the best *linear* decoder a model that knew the environment
  could use, i.e. how much of the remaining gap needs a nonlinear decoder;
* the shipped LAM and reference SAM;
* ``rd``: the Gaussian rate-distortion reference at the payload;
* ``<model>_train`` and ``<model>_overfit_db``: the LAM's and the SAM's
  NMSE on 1,000 of their training images and how much better that is than
  on validation; ``<model>_test``: on the test images;
* ``lookup_test``: the nearest-neighbour lookup decoder with the
  environment's training reports as its table, on the test images -- a
  model that does not beat it memorises.

Image-domain NMSE [dB]; ``results.csv`` (atomic) and ``sources.png``.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from lasco_sionna.csi import image_nmse_db, rate_distortion_nmse_db  # noqa: E402
from lasco_sionna.models import (LMMSEDecoder, LookupDecoder,  # noqa: E402
                                 apply_batched, lmmse_gain, load_pretrained,
                                 load_source_images)
from lasco_sionna.utils.io import atomic_path  # noqa: E402


def nmse_db(decode, x0, x):
    """Image-domain NMSE [dB] (unit-norm images), batched"""
    return image_nmse_db(apply_batched(decode, x0, batch_size=250), x)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lam", default="lam-cr16")
    ap.add_argument("--sam", default="sam-ref-cr16")
    ap.add_argument("--out", default="results/bench_sources")
    args = ap.parse_args()
    encoder, lam, record = load_pretrained(args.lam)
    _, sam, _ = load_pretrained(args.sam)
    data = load_source_images(record["config"], test=True)
    pooled = LMMSEDecoder(encoder.get_config())
    pooled.set_gain(lmmse_gain(encoder, np.concatenate(
        [v[0] for v in data.values()]))[0])
    rows = []
    for env, (train, val, test) in data.items():
        x0 = encoder(val).numpy()
        x0_test = encoder(test).numpy()
        own = LMMSEDecoder(encoder.get_config())
        own.set_gain(lmmse_gain(encoder, train)[0])
        row = {"environment": env, "coarse": nmse_db(lambda z: z, x0, val),
               "lmmse_pooled": nmse_db(pooled, x0, val),
               "lmmse_own": nmse_db(own, x0, val),
               args.sam: nmse_db(sam, x0, val),
               args.lam: nmse_db(lam, x0, val),
               "rd": rate_distortion_nmse_db(np.concatenate([train, val]),
                                             encoder.payload_bits)}
        row["lam_minus_sam_db"] = row[args.sam] - row[args.lam]
        for name, model in ((args.sam, sam), (args.lam, lam)):
            row[f"{name}_test"] = nmse_db(model, x0_test, test)
        lookup = LookupDecoder.from_table(
            np.concatenate([encoder(train[i:i + 1000]).numpy()
                            for i in range(0, len(train), 1000)]), train)
        row["lookup_test"] = nmse_db(lookup, x0_test, test)
        row["num_test"] = len(test)
        # Overfitting: the same models on 1,000 of their training images
        x0_tr = encoder(train[:1000]).numpy()
        for name, model in ((args.sam, sam), (args.lam, lam)):
            row[f"{name}_train"] = nmse_db(model, x0_tr, train[:1000])
            row[f"{name}_overfit_db"] = row[name] - row[f"{name}_train"]
        rows.append(row)
        print({k: (round(v, 2) if isinstance(v, float) else v)
               for k, v in row.items()}, flush=True)
    table = pd.DataFrame(rows)
    os.makedirs(args.out, exist_ok=True)
    with atomic_path(os.path.join(args.out, "results.csv")) as p:
        table.to_csv(p, index=False)
    cols = ["lookup_test", "lmmse_pooled", args.sam, "lmmse_own", args.lam,
            "rd"]
    ax = table.set_index("environment")[cols].plot.bar(figsize=(11, 4))
    ax.set(ylabel="NMSE [dB]",
           title="source environments (validation; lookup on test images)")
    ax.figure.tight_layout()
    with atomic_path(os.path.join(args.out, "sources.png")) as p:
        ax.figure.savefig(p, format="png", dpi=120)
    print(table.round(2).to_string(index=False))


if __name__ == "__main__":
    main()
