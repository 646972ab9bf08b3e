#
# SPDX-License-Identifier: Apache-2.0
#
"""Nearest-neighbour lookup predictor: a history -> the closest training history -> its future"""

import numpy as np
import tensorflow as tf

from lasco_sionna.prediction.base import (ChannelPredictor, check_history,
                                          last_reports)
from lasco_sionna.utils.validation import check_positive


def _normalise(x, history_length):
    # pylint: disable=line-too-long
    r"""Entry sequences scaled so that their history has unit RMS and its last sample is real positive

    Input
    -----
    x : [num, length, ...], `tf.complex`
        Sequences of one entry each, along axis 1 (history first)

    history_length : `int`
        Samples of the history

    Output
    ------
    xn : [num, length, ...], `tf.complex`
        Normalised sequences

    scale : [num, 1, ...], `tf.complex`
        ``x = xn * scale``
    """
    past = x[:, :history_length]
    rms = tf.sqrt(tf.reduce_mean(tf.abs(past) ** 2, axis=1, keepdims=True))
    last = past[:, -1:]
    phase = tf.math.divide_no_nan(last, tf.cast(tf.abs(last), x.dtype))
    phase = tf.where(tf.abs(last) > 0, phase, tf.ones_like(phase))
    scale = tf.cast(rms, x.dtype) * phase
    return tf.math.divide_no_nan(x, scale), scale


class LookupPredictor(ChannelPredictor):
    # pylint: disable=line-too-long
    r"""Nearest-neighbour lookup: the future of the closest stored training history

    The baseline a learned predictor must beat (otherwise it memorises).
    Every antenna-subcarrier entry's history of ``history_length`` reports
    is scaled to unit RMS and rotated so that its last report is real
    positive; the stored *atoms* are ``num_atoms`` such windows (history and
    the ``horizon`` reports after it) drawn at random from the training
    sequences. The prediction of an entry is the normalised future of the
    atom whose normalised history is closest (Euclidean), scaled and
    rotated back. Nothing is trained; the cost per entry is one distance
    to every atom.

    Parameters
    ----------
    sequences : [num_sequences, num_reports, num_bs_ant, fft_size], `np.complex` | `tf.complex`
        Training sequences (``num_reports >= history_length + horizon``)

    history_length : `int`
        Past reports compared, :math:`L`

    horizon : `int`, (default 1)
        Predicted reports, :math:`H`

    num_atoms : `int`, (default 4096)
        Stored windows (at most all entries of all windows)

    chunk_size : `int`, (default 8192)
        Entries compared with the atoms at once (memory: ``chunk_size x
        num_atoms`` floats)

    seed : `int`, (default 0)
        Seed of the atom draw

    precision : `None` (default) | "single" | "double"
        Precision of the computation and output

    Input
    -----
    history : [..., history_length', num_bs_ant, fft_size], `tf.complex`
        Past reports, oldest first (``history_length' >= history_length``;
        the last ``history_length`` are used)

    Output
    ------
    prediction : [..., horizon, num_bs_ant, fft_size], `tf.complex`
        Predicted reports
    """

    def __init__(self, sequences, history_length, horizon=1, num_atoms=4096,
                 chunk_size=8192, seed=0, precision=None):
        super().__init__(horizon, precision=precision)
        check_positive("history_length", history_length, integer=True)
        check_positive("num_atoms", num_atoms, integer=True)
        check_positive("chunk_size", chunk_size, integer=True)
        x = check_history(sequences, history_length + horizon,
                          name="sequences")
        x = np.asarray(x.numpy(), np.complex128)
        if x.ndim != 4:
            raise ValueError("`sequences` must have shape [num_sequences, "
                             f"num_reports, num_bs_ant, fft_size], got "
                             f"{x.shape}")
        n = history_length + horizon
        num, t = x.shape[:2]
        rng = np.random.default_rng(seed)
        total = num * (t - n + 1) * x.shape[2] * x.shape[3]
        pick = rng.choice(total, size=min(num_atoms, total), replace=False)
        # Sequence, window start, antenna, subcarrier of every atom
        s, w, a, c = np.unravel_index(pick, (num, t - n + 1) + x.shape[2:])
        # [num_atoms, L + H]
        atoms = np.stack([x[s, w + i, a, c] for i in range(n)], axis=1)
        atoms = tf.constant(atoms, self.cdtype)
        atoms, _ = _normalise(atoms, history_length)
        self._history_length = int(history_length)
        self._chunk_size = int(chunk_size)
        # [num_atoms, 2L] real features, [num_atoms, H] futures
        self._keys = tf.concat([tf.math.real(atoms[:, :history_length]),
                                tf.math.imag(atoms[:, :history_length])], -1)
        self._key_norms = tf.reduce_sum(self._keys ** 2, axis=-1)
        self._futures = atoms[:, history_length:]

    @property
    def min_history(self):
        return self._history_length

    @property
    def num_atoms(self):
        """`int` : Stored windows"""
        return int(self._keys.shape[0])

    def _predict(self, history):
        L, H = self._history_length, self.horizon
        shape = tf.shape(history)
        nt, nc = history.shape[-2], history.shape[-1]
        # [B, L, num_bs_ant, fft_size]
        x = tf.reshape(last_reports(history, L), [-1, L, nt, nc])
        # [B, num_bs_ant, fft_size, L]
        x = tf.transpose(x, [0, 2, 3, 1])
        # One sequence per entry: [Q, L]
        x = tf.reshape(x, [-1, L])
        xn, scale = _normalise(x, L)
        # [Q, 2L]
        q = tf.concat([tf.math.real(xn), tf.math.imag(xn)], axis=-1)
        num_q = tf.shape(q)[0]
        num_chunks = (num_q + self._chunk_size - 1) // self._chunk_size
        q = tf.pad(q, [[0, num_chunks * self._chunk_size - num_q], [0, 0]])
        # [num_chunks, chunk_size, 2L]
        q = tf.reshape(q, [num_chunks, self._chunk_size, 2 * L])
        # Closest atom of every entry: ||k||^2 - 2 q.k is minimal
        idx = tf.map_fn(
            lambda c: tf.argmin(self._key_norms[None]
                                - 2.0 * tf.matmul(c, self._keys,
                                                  transpose_b=True), axis=-1),
            q, fn_output_signature=tf.int64)
        # [Q]
        idx = tf.reshape(idx, [-1])[:num_q]
        # [Q, H]
        y = tf.gather(self._futures, idx) * scale
        # [B, num_bs_ant, fft_size, H]
        y = tf.reshape(y, [-1, nt, nc, H])
        # [B, H, num_bs_ant, fft_size]
        y = tf.transpose(y, [0, 3, 1, 2])
        # [..., horizon, num_bs_ant, fft_size]
        return tf.reshape(y, tf.concat([shape[:-3], [H, nt, nc]], 0))
