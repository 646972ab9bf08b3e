#
# SPDX-License-Identifier: Apache-2.0
#
"""Trainable predictors applied per antenna-subcarrier entry: one normalisation, one prediction head"""

import keras
import tensorflow as tf

from lasco_sionna.prediction.base import check_history
from lasco_sionna.utils.validation import check_positive


class EntrywisePredictor(keras.Model):
    # pylint: disable=line-too-long
    r"""Base class of trainable predictors shared by every antenna-subcarrier entry

    Every entry's history is one sequence of :math:`L` complex values,
    scaled to unit RMS and given as :math:`L` real pairs (real, imaginary
    part) to a sequence model (:meth:`summarize`, implemented by the
    subclass), whose summary vector feeds a dense head predicting the change
    from the last report for each of the ``horizon`` steps
    (sample-and-hold at zero head output: the head starts at zero). The
    prediction is scaled back. Weights are shared by all entries, so any
    array and bandwidth fit. Subclasses build their layers in
    :meth:`build_sequence_model` and set :attr:`summary_width`.

    Parameters
    ----------
    horizon : `int`, (default 1)
        Predicted reports, :math:`H`

    kwargs :
        Keras layer arguments (``name``, ``dtype``); others raise `TypeError`

    Input
    -----
    history : [..., history_length, num_bs_ant, fft_size], `tf.complex64`
        Past reports, oldest first

    Output
    ------
    prediction : [..., horizon, num_bs_ant, fft_size], `tf.complex64`
        Predicted reports
    """

    def __init__(self, horizon=1, **kwargs):
        super().__init__(**kwargs)
        check_positive("horizon", horizon, integer=True)
        self.horizon = int(horizon)
        self._head = keras.layers.Dense(2 * self.horizon,
                                        kernel_initializer="zeros")

    @property
    def min_history(self):
        """`int` : Fewest past reports needed"""
        return 1

    @property
    def summary_width(self):
        """`int` : Width of the summary vector of :meth:`summarize`"""
        raise NotImplementedError

    def get_config(self):
        return {**super().get_config(), "horizon": self.horizon}

    def build_sequence_model(self, history_length):
        """Build the layers of :meth:`summarize` for sequences of ``history_length`` (`None`: any)"""
        raise NotImplementedError

    def summarize(self, features):
        # pylint: disable=line-too-long
        r"""Summary of every entry's normalised history (the subclass's sequence model)

        Input
        -----
        features : [num_seq, history_length, 2], `tf.float32`
            Real and imaginary parts of each entry's history at unit RMS,
            oldest first

        Output
        ------
        summary : [num_seq, summary_width], `tf.float32`
            What the head predicts from
        """
        raise NotImplementedError

    def build(self, input_shape):
        self.build_sequence_model(input_shape[-3])
        self._head.build((None, self.summary_width))

    def call(self, history):
        history = check_history(history, self.min_history)
        shape = tf.shape(history)
        L, nt, nc = history.shape[-3:]
        # [B, L, num_bs_ant, fft_size]
        x = tf.reshape(history, [-1, L, nt, nc])
        # [B, num_bs_ant, fft_size, L]
        x = tf.transpose(x, [0, 2, 3, 1])
        # One sequence per entry: [B * num_bs_ant * fft_size, L]
        x = tf.reshape(x, [-1, L])
        # [num_seq, 1]
        scale = tf.sqrt(tf.reduce_mean(tf.abs(x) ** 2, axis=-1,
                                       keepdims=True)) + 1e-12
        xn = x / tf.cast(scale, x.dtype)
        # [num_seq, L, 2]
        feat = tf.stack([tf.math.real(xn), tf.math.imag(xn)], axis=-1)
        # [num_seq, horizon, 2]
        delta = tf.reshape(self._head(self.summarize(feat)),
                           [-1, self.horizon, 2])
        # [num_seq, horizon]
        y = xn[:, -1:] + tf.complex(delta[..., 0], delta[..., 1])
        y = y * tf.cast(scale, y.dtype)
        # [B, num_bs_ant, fft_size, horizon]
        y = tf.reshape(y, [-1, nt, nc, self.horizon])
        # [B, horizon, num_bs_ant, fft_size]
        y = tf.transpose(y, [0, 3, 1, 2])
        # [..., horizon, num_bs_ant, fft_size]
        return tf.reshape(y, tf.concat([shape[:-3], [self.horizon, nt, nc]],
                                       0))
