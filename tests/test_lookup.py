#
# SPDX-License-Identifier: Apache-2.0
#
"""Nearest-neighbour lookup decoder against brute force; .keras round trip; bad input"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from lasco_sionna.csi import LearnedCSIFeedback
from lasco_sionna.models import LinearProjectionEncoder, LookupDecoder


def images(n, ant=4, taps=4, seed=0):
    x = np.random.default_rng(seed).standard_normal([n, 2, ant, taps])
    return (x / np.linalg.norm(x.reshape(n, -1), axis=1)[:, None, None, None]
            ).astype(np.float32)


def brute_force(keys, values, queries, k):
    """Mean of the values of the k nearest keys, one query at a time"""
    kf, qf = keys.reshape(len(keys), -1), queries.reshape(len(queries), -1)
    out = []
    for q in qf:
        d = np.sum((kf - q) ** 2, axis=1).astype(np.float64)
        out.append(values[np.argsort(d, kind="stable")[:k]].mean(axis=0))
    return np.stack(out)


def test_lookup_returns_stored_image_and_matches_brute_force():
    keys, values = images(500, seed=1), images(500, seed=2)
    dec = LookupDecoder.from_table(keys, values)
    assert dec.num_adapted == 2 * 500 * 32
    # A query equal to a stored report gives exactly its stored image
    np.testing.assert_array_equal(dec(keys[[7, 123, 499]]).numpy(),
                                  values[[7, 123, 499]])
    # Noisy queries: the true nearest neighbour (distances well separated)
    q = keys[:50] + 0.01 * images(50, seed=3) + 0.3 * images(50, seed=4)
    for k in (1, 3):
        dec = LookupDecoder.from_table(keys, values, num_neighbors=k)
        np.testing.assert_allclose(dec(q).numpy(),
                                   brute_force(keys, values, q, k),
                                   atol=1e-6)


def test_lookup_on_coarse_inversions_is_a_lookup_on_the_payload():
    """x0 = A^T s_q / sqrt(D): nearest x0 = nearest dequantised payload"""
    enc = LinearProjectionEncoder(num_ant=4, num_taps=4, compression=4,
                                  bits_per_measurement=3)
    x_tr, x_te = images(300, seed=5), images(40, seed=6)
    dec = LookupDecoder.from_table(enc(x_tr).numpy(), x_tr)
    s_tr = enc.quantizer(enc.measure(x_tr)).numpy()
    s_te = enc.quantizer(enc.measure(x_te)).numpy()
    out = dec(enc(x_te)).numpy().reshape(40, -1)
    # Which stored image came back, and its payload distance (quantised
    # measurements tie often: any of the tied nearest reports is right)
    picked = np.argmin(((out[:, None] - x_tr.reshape(1, 300, -1)) ** 2)
                       .sum(-1), axis=1)
    d = ((s_te[:, None] - s_tr[None]) ** 2).sum(-1)
    np.testing.assert_allclose(d[np.arange(40), picked], d.min(axis=1),
                               atol=1e-5)
    assert np.mean(d.min(axis=1) > 0) > 0.5      # not all exact repeats
    # It is a decoder of the link's CSI path like any other
    fb = LearnedCSIFeedback(enc, dec, 4, 8)
    assert fb.payload_bits == enc.payload_bits + 8


def test_lookup_round_trips_through_keras_file(tmp_path):
    keys, values = images(64, seed=7), images(64, seed=8)
    dec = LookupDecoder.from_table(keys, values, num_neighbors=2)
    model = keras.Sequential([keras.Input((2, 4, 4)), dec])
    path = str(tmp_path / "lookup.keras")
    model.save(path)
    back = keras.models.load_model(path)
    q = images(10, seed=9)
    np.testing.assert_array_equal(back(q).numpy(), model(q).numpy())
    assert back.layers[0].get_config()["num_neighbors"] == 2
    # In a graph too
    np.testing.assert_array_equal(tf.function(back)(q).numpy(),
                                  model(q).numpy())


def test_lookup_rejects_bad_input():
    keys = images(8)
    with pytest.raises(ValueError, match="`keys` is empty"):
        LookupDecoder.from_table(keys[:0], keys[:0])
    with pytest.raises(ValueError, match="num_entries"):
        LookupDecoder(0)
    with pytest.raises(ValueError, match="num_neighbors`=9 must be <="):
        LookupDecoder.from_table(keys, keys, num_neighbors=9)
    with pytest.raises(ValueError, match=r"`values` must have shape "
                                         r"\[8, 2, 4, 4\], got \[7, 2, 4, 4\]"):
        LookupDecoder.from_table(keys, keys[:7])
    bad = keys.copy()
    bad[3, 1, 2, 0] = np.nan
    with pytest.raises(ValueError, match=r"`keys` contains 1 NaN/Inf .*"
                                         r"\(3, 1, 2, 0\)"):
        LookupDecoder.from_table(bad, keys)
    dec = LookupDecoder.from_table(keys, keys)
    with pytest.raises(ValueError, match="`x0` contains 1 NaN"):
        dec(bad)
    with pytest.raises(ValueError, match=r"`x0` must have shape \[batch, 2, "
                                         r"4, 4\], got \(3, 2, 4, 5\)"):
        dec(np.zeros([3, 2, 4, 5], np.float32))
    with pytest.raises(ValueError, match="lookup table is empty"):
        LookupDecoder(4, 4, 4)(keys[:2])
