#
# SPDX-License-Identifier: Apache-2.0
#
"""A Sionna-free toy evaluator: uncoded BPSK/QPSK over AWGN against theory"""

import math

import numpy as np

from lasco_sionna.utils.validation import check_number, check_positive


def evaluate_point(point):
    """Bit error rate of uncoded Gray-mapped BPSK/QPSK over AWGN

    Input
    -----
    point : `dict`
        ``ebno_db`` (required), ``modulation`` ("bpsk" | "qpsk", default
        "bpsk"), ``num_bits`` (default 100000), ``seed``, ``point_id``

    Output
    ------
    metrics : `dict`
        ``ber``, ``ber_theory`` (``Q(sqrt(2 Eb/N0))``)
    """
    allowed = {"ebno_db", "modulation", "num_bits", "seed", "point_id"}
    unknown = sorted(set(point) - allowed)
    if unknown:
        raise ValueError(f"unknown point keys {unknown}; allowed: "
                         + ", ".join(sorted(allowed)))
    modulation = point.get("modulation", "bpsk")
    if modulation not in ("bpsk", "qpsk"):
        raise ValueError(f"`modulation`={modulation!r} is not valid; "
                         "allowed: 'bpsk', 'qpsk'")
    num_bits = check_positive("num_bits", point.get("num_bits", 100000),
                              integer=True)
    ebno = 10 ** (check_number("ebno_db", point["ebno_db"]) / 10)
    rng = np.random.default_rng(point.get("seed", 0))
    bits = rng.integers(0, 2, num_bits)
    # Gray QPSK = two BPSK branches with half the symbol energy each
    x = 1.0 - 2.0 * bits
    noise = rng.standard_normal(num_bits) * math.sqrt(1 / (2 * ebno))
    ber = float(np.mean((x + noise < 0) != (bits == 1)))
    return {"ber": ber,
            "ber_theory": 0.5 * math.erfc(math.sqrt(ebno))}


evaluate_point.metrics = ("ber", "ber_theory")
