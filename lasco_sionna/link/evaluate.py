#
# SPDX-License-Identifier: Apache-2.0
#
"""Monte-Carlo evaluation of a link: BER/BLER (Sionna's ``sim_ber``), goodput, sum-rate"""

import numpy as np
import pandas as pd
import tensorflow as tf
from sionna.phy.utils import sim_ber

from lasco_sionna.utils.validation import (check_choice, check_finite,
                                           check_positive)


def evaluate_link(link, ebno_dbs, batch_size, max_mc_iter=20,
                  num_target_block_errors=100, rate_batches=4,
                  graph_mode="graph", early_stop=False):
    r"""Simulate a :class:`~lasco_sionna.link.MUMIMOOFDMLink` over Eb/N0 values

    BER and BLER come from :func:`sionna.phy.utils.sim_ber` (stopping at
    ``num_target_block_errors`` block errors or ``max_mc_iter`` batches per
    point). Sum-rate and SINR are averaged over ``rate_batches`` further
    batches per point.

    Input
    -----
    link : :class:`~lasco_sionna.link.MUMIMOOFDMLink`
        The link

    ebno_dbs : `list` of `float`
        Eb/N0 values [dB]

    batch_size : `int`
        Batch size

    max_mc_iter : `int`, (default 20)
        Maximum batches per point

    num_target_block_errors : `int`, (default 100)
        Block errors after which a point stops

    rate_batches : `int`, (default 4)
        Batches used for sum-rate and SINR

    graph_mode : "graph" (default) | "xla" | `None`
        Execution mode (see ``sim_ber``)

    early_stop : `bool`, (default `False`)
        Stop the sweep at the first error-free point

    Output
    ------
    table : `pandas.DataFrame`
        One row per Eb/N0: ``ebno_db, ber, bler, num_bits, num_blocks,
        goodput_bps, goodput_bps_per_hz, sum_rate, min_rate, sinr_db,
        csi_nmse_db, feedback_bits_per_user``. Goodput counts the
        information bits of correctly decoded codewords per slot duration;
        ``csi_nmse_db`` is the NMSE of the BS's channel knowledge against
        the channel of the transmission (pooled over the rate batches).
    """
    ebno_dbs = [float(e) for e in np.atleast_1d(ebno_dbs)]
    if not ebno_dbs:
        raise ValueError("`ebno_dbs` must hold at least one value")
    check_finite("ebno_dbs", ebno_dbs)
    check_positive("batch_size", batch_size, integer=True)
    check_positive("max_mc_iter", max_mc_iter, integer=True)
    check_positive("num_target_block_errors", num_target_block_errors,
                   integer=True)
    check_positive("rate_batches", rate_batches, integer=True,
                   allow_zero=True)
    check_choice("graph_mode", graph_mode, ("graph", "xla", None))

    counts = {}

    def _record(mc_iter, snr_idx, ebno, bit_errors, block_errors, nb_bits,
                nb_blocks):
        # pylint: disable=unused-argument
        counts["bits"], counts["blocks"] = nb_bits, nb_blocks

    ber, bler = sim_ber(
        link, tf.constant(ebno_dbs, link.rdtype), batch_size=batch_size,
        max_mc_iter=max_mc_iter,
        num_target_block_errors=num_target_block_errors,
        early_stop=early_stop, graph_mode=graph_mode, verbose=False,
        callback=_record, precision=link.precision)
    nb_bits = np.asarray(counts["bits"])
    nb_blocks = np.asarray(counts["blocks"])

    run = link.run
    if graph_mode is not None:
        run = tf.function(run, jit_compile=graph_mode == "xla")

    n = link.numerology
    k = link.config.num_users
    rows = []
    for i, e in enumerate(ebno_dbs):
        rates, sinrs, errors, powers = [], [], [], []
        for _ in range(rate_batches):
            _, _, stats = run(batch_size, tf.constant(e, link.rdtype))
            rates.append(stats["rate"].numpy())
            sinrs.append(stats["sinr"].numpy())
            errors.append(stats["csi_error"].numpy())
            powers.append(stats["csi_power"].numpy())
        bl = float(bler[i])
        goodput = (1.0 - bl) * k * link.num_info_bits / n.slot_duration
        row = {"ebno_db": e, "ber": float(ber[i]), "bler": bl,
               "num_bits": int(nb_bits[i]), "num_blocks": int(nb_blocks[i]),
               "goodput_bps": goodput,
               "goodput_bps_per_hz": goodput / n.bandwidth,
               "feedback_bits_per_user": link.feedback_bits_per_user}
        if rates:
            rate = np.concatenate(rates, 0)  # [batches*batch_size, k]
            with np.errstate(divide="ignore"):   # exact CSI: -inf dB
                csi_nmse_db = float(10 * np.log10(np.sum(errors)
                                                  / np.sum(powers)))
            sinr = np.concatenate(sinrs, 0)
            row.update({"sum_rate": float(rate.sum(1).mean()),
                        "min_rate": float(rate.min(1).mean()),
                        "sinr_db": float(10 * np.log10(sinr.mean())),
                        "csi_nmse_db": csi_nmse_db})
        rows.append(row)
    return pd.DataFrame(rows)
