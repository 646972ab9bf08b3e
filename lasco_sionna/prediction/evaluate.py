#
# SPDX-License-Identifier: Apache-2.0
#
"""Prediction NMSE per step ahead, and every predictor's distance to the Wiener limit"""

import numpy as np
import tensorflow as tf

from lasco_sionna.utils.validation import check_channel_tensor


def prediction_nmse(future, prediction):
    # pylint: disable=line-too-long
    r"""NMSE of each step ahead, pooled over all windows

    :math:`\text{NMSE}_j = \sum \|\mathbf{H}_{t+j}-\hat{\mathbf{H}}_{t+j}\|^2
    / \sum \|\mathbf{H}_{t+j}\|^2` (sums over windows): the ratio of
    expectations that closed forms such as
    :func:`~lasco_sionna.prediction.wiener_nmse` give (the mean of
    per-image ratios, :func:`~lasco_sionna.csi.nmse`, differs from it by a
    Jensen term).

    Input
    -----
    future : [..., horizon, num_bs_ant, fft_size], `tf.complex` | `np.complex`
        True reports

    prediction : [..., horizon, num_bs_ant, fft_size], `tf.complex` | `np.complex`
        Predicted reports

    Output
    ------
    nmse : [horizon], `np.float64`
        Linear NMSE of each step ahead
    """
    future = tf.convert_to_tensor(future)
    prediction = tf.convert_to_tensor(prediction)
    check_channel_tensor("future", future, last_dims=(None, None, None))
    check_channel_tensor("prediction", prediction,
                         last_dims=(None, None, None))
    if tuple(future.shape) != tuple(prediction.shape):
        raise ValueError("`future` and `prediction` must have the same "
                         f"shape, got {tuple(future.shape)} and "
                         f"{tuple(prediction.shape)}")
    prediction = tf.cast(prediction, future.dtype)
    axes = [a for a in range(len(future.shape)) if a != len(future.shape) - 3]
    err = tf.reduce_sum(tf.abs(future - prediction) ** 2, axis=axes)
    ref = tf.reduce_sum(tf.abs(future) ** 2, axis=axes)
    return (err / ref).numpy().astype(np.float64)


def evaluate_predictors(predictors, history, future, batch_size=256):
    # pylint: disable=line-too-long
    r"""Prediction NMSE of several predictors on the same windows

    Input
    -----
    predictors : `dict` of `callable`
        ``{name: predictor}``, each ``history -> prediction``

    history : [num_windows, history_length, num_bs_ant, fft_size], `np.complex`
        Past reports (noisy ones for a noisy evaluation)

    future : [num_windows, horizon, num_bs_ant, fft_size], `np.complex`
        True future reports

    batch_size : `int`, (default 256)
        Windows per call

    Output
    ------
    nmse : `dict` of [horizon] `np.float64`
        ``{name: NMSE of each step ahead}`` (:func:`prediction_nmse`)
    """
    out = {}
    for name, predictor in predictors.items():
        pred = np.concatenate(
            [np.asarray(predictor(history[i:i + batch_size]))
             for i in range(0, len(history), batch_size)], axis=0)
        out[name] = prediction_nmse(future, pred)
    return out


def distance_to_limit(nmse, limit):
    # pylint: disable=line-too-long
    r"""Every predictor's distance to the reference limit [dB]

    Input
    -----
    nmse : `dict` of [horizon] `np.ndarray`
        ``{name: linear NMSE per step ahead}`` (:func:`evaluate_predictors`)

    limit : [horizon], `np.ndarray`
        Linear NMSE of the limit (e.g.
        :func:`~lasco_sionna.prediction.wiener_nmse` for TDL)

    Output
    ------
    distance_db : `dict` of [horizon] `np.float64`
        ``10 log10(nmse / limit)`` per predictor: 0 dB is the limit,
        negative values beat it. The Jakes Wiener limit is per entry: it is
        the MMSE bound of noiseless histories (separable correlation); with
        noisy histories a predictor that uses the sparsity of the delay
        domain (mode "tap") also denoises and can go below it
    """
    limit = np.asarray(limit, np.float64)
    out = {}
    for name, v in nmse.items():
        v = np.asarray(v, np.float64)
        if v.shape != limit.shape:
            raise ValueError(f"NMSE of {name!r} has shape {v.shape}, the "
                             f"limit {limit.shape}")
        out[name] = 10 * np.log10(v / limit)
    return out
