#
# SPDX-License-Identifier: Apache-2.0
#
"""Training of trainable predictors on an environment's report windows"""

import numpy as np
import tensorflow as tf

from lasco_sionna.csi.representation import complex_to_real_image
from lasco_sionna.models.training import fit


def train_predictor(model, train_history, train_future, val_history,
                    val_future, **kwargs):
    # pylint: disable=line-too-long
    r"""Train a Keras predictor on the NMSE of its predictions

    The loss is the NMSE of each window's predicted reports (all steps
    ahead together); the variables end at the best validation checkpoint
    (:func:`lasco_sionna.models.training.fit`).

    Input
    -----
    model : `keras.layers.Layer`
        ``history -> prediction`` (e.g.
        :class:`~lasco_sionna.prediction.GRUPredictor`,
        :class:`~lasco_sionna.prediction.TransformerPredictor`)

    train_history, val_history : [num, history_length, num_bs_ant, fft_size], `np.complex64`
        Past reports (see :func:`~lasco_sionna.prediction.sliding_windows`)

    train_future, val_future : [num, horizon, num_bs_ant, fft_size], `np.complex64`
        True next reports

    kwargs :
        ``steps``, ``batch_size``, ``learning_rate``, ``eval_every``,
        ``seed``, ``jit_compile``, ``checkpoint``, ``fingerprint``,
        ``max_seconds`` of :func:`~lasco_sionna.models.training.fit`
        (``checkpoint``: resumable training)

    Output
    ------
    history : `pandas.DataFrame`
        ``step, elapsed_s, train_nmse_db, val_nmse_db``

    best_step : `int`
        Step of the kept checkpoint
    """
    model(train_history[:1])

    def image(y):
        y = tf.convert_to_tensor(y)
        # [num, horizon * num_bs_ant, fft_size]
        y = tf.reshape(y, [-1, y.shape[-3] * y.shape[-2], y.shape[-1]])
        # [num, 2, horizon * num_bs_ant, fft_size]
        return complex_to_real_image(y)

    return fit(lambda h: image(model(h)), model.trainable_variables,
               (train_history,), np.asarray(image(train_future)),
               (val_history,), np.asarray(image(val_future)), **kwargs)
