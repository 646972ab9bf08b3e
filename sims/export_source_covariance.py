#!/usr/bin/env python
"""Ship the second-moment matrix of the pooled source CSI images

    python sims/export_source_covariance.py [--model lam-cr16]

Rebuilds (or reads from the cache) the training images of every source
environment of the shipped model's pretraining config and writes
``lasco_sionna/models/weights/source-covariance-<num_ant>x<num_taps>.h5``
(:func:`lasco_sionna.models.pretrained.save_source_covariance`). It is
the knowledge of the linear reference SAM (the source LMMSE decoder) and
the shrinkage target of linear E-LASCO (:func:`lasco_sionna.collab.adapt_linear`).
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from lasco_sionna.csi import image_second_moment  # noqa: E402
from lasco_sionna.models import list_pretrained, load_source_images  # noqa: E402
from lasco_sionna.models.pretrained import save_source_covariance  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="lam-cr16",
                    help="shipped model whose pretraining sources are used")
    args = ap.parse_args()
    shipped = list_pretrained()
    if args.model not in shipped:
        ap.error(f"--model {args.model!r} is not shipped; shipped: "
                 + ", ".join(shipped))
    cfg = shipped[args.model]["config"]
    sources = load_source_images(cfg)
    # [num_images, 2, num_ant, num_taps]
    images = np.concatenate([tr for tr, _ in sources.values()])
    save_source_covariance(image_second_moment(images), cfg["num_ant"],
                           cfg["num_taps"],
                           {"model": args.model, "sources": list(sources),
                            "num_images": len(images)})
    print(f"source covariance of {len(images)} images from {len(sources)} "
          "environments written", flush=True)


if __name__ == "__main__":
    main()
