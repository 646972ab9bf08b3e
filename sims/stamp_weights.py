#
# SPDX-License-Identifier: Apache-2.0
#
"""Write the SHA-256 of every shipped ``<name>.weights.h5`` into its ``<name>.json`` record

``load_pretrained`` refuses weights that do not match their record.
``sims/pretrain.py --export`` stamps what it writes; run this after
weights were replaced by other means (or to stamp older records)::

    python sims/stamp_weights.py             # the package's weights folder
    python sims/stamp_weights.py DIR         # another folder of records
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from lasco_sionna.models import stamp_weights_sha256  # noqa: E402


def main(argv=None):
    """Entry point"""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("weights_dir", nargs="?", default=None,
                    help="folder of <name>.json + <name>.weights.h5 "
                         "(default: the package's)")
    args = ap.parse_args(argv)
    for path in stamp_weights_sha256(args.weights_dir):
        print(f"stamped {path}")


if __name__ == "__main__":
    main()
