#
# SPDX-License-Identifier: Apache-2.0
#
"""Kalman predictor: an AR(p) state-space model of each entry, fitted per environment"""

import numpy as np

from lasco_sionna.prediction.linear import (MODES, LinearPredictor,
                                            autocorrelation)
from lasco_sionna.utils.validation import check_choice, check_positive


def _toeplitz(r, order):
    """[..., order, order] : ``R[..., i, k] = r(i - k)`` with ``r(-m) = r(m)^*``"""
    return np.stack([np.stack([r[..., i - k] if i >= k else r[..., k - i].conj()
                               for k in range(order)], -1)
                     for i in range(order)], -2)


def yule_walker(correlation, order, regularization=0.0):
    # pylint: disable=line-too-long
    r"""AR(p) coefficients and innovation variance from an autocorrelation

    :math:`x_{t+1} = \sum_{k=0}^{p-1} a_k x_{t-k} + w_{t+1}`,
    :math:`E|w|^2 = q`.

    Input
    -----
    correlation : [..., >= order + 1], `np.complex`
        :math:`r(0), \dots, r(p)` per group

    order : `int`
        :math:`p`

    regularization : `float`, (default 0)
        :math:`r(0)` is raised until the ``(p+1) x (p+1)`` Toeplitz matrix of
        the correlation has eigenvalues of at least ``regularization *
        r(0)``: a valid correlation, hence a stable AR model, even from a
        noise-corrected estimate

    Output
    ------
    a : [..., order], `np.complex128`
        AR coefficients (``a[..., k]`` weights :math:`x_{t-k}`)

    q : [...], `np.float64`
        Innovation variance (floored at ``1e-9 r(0)``)
    """
    r = np.array(correlation, np.complex128)
    # Smallest eigenvalue of the (p+1) Toeplitz matrix: [...]
    low = np.linalg.eigvalsh(_toeplitz(r, order + 1))[..., 0]
    r[..., 0] += np.maximum(regularization * np.real(r[..., 0]) - low, 0.0)
    # [..., order, order]
    R = _toeplitz(r, order)
    a = np.linalg.solve(R, r[..., 1:order + 1, None])[..., 0]
    q = np.real(r[..., 0]) - np.real(np.sum(a * r[..., 1:order + 1].conj(),
                                            axis=-1))
    return a, np.maximum(q, 1e-9 * np.real(r[..., 0]))


def kalman_coefficients(ar, innovation_variance, correlation, history_length,
                        horizon, noise_variance):
    # pylint: disable=line-too-long
    r"""Kalman filter and predictor of an AR(p) process, as an equivalent FIR filter

    State :math:`\mathbf{s}_t = [x_t, \dots, x_{t-p+1}]` (companion matrix
    of ``ar``), observations :math:`y_t = x_t + v_t`,
    :math:`E|v|^2 = \sigma^2`; the filter starts from the stationary prior
    (zero mean, state covariance from ``correlation``). Its gains do not depend on the data, so the filtered state
    after ``history_length`` observations, propagated ``j`` steps, is a
    fixed linear combination of the observations: those weights are
    returned.

    Input
    -----
    ar : [..., order], `np.complex`
        AR coefficients (:func:`yule_walker`)

    innovation_variance : [...], `np.float`
        :math:`q`

    correlation : [..., >= order], `np.complex`
        :math:`r(0), \dots, r(p-1)` (noise-free)

    history_length : `int`
        Observations filtered, :math:`L`

    horizon : `int`
        Steps predicted, :math:`H`

    noise_variance : `float`
        :math:`\sigma^2` (floored at ``1e-6 r(0)`` for numerical stability)

    Output
    ------
    c : [..., horizon, history_length], `np.complex128`
        ``c[..., j-1, k]`` weights :math:`y_{t-k}`
    """
    a = np.asarray(ar, np.complex128)
    p = a.shape[-1]
    batch = a.shape[:-1]
    # Companion matrix: [..., p, p]
    F = np.zeros(batch + (p, p), np.complex128)
    F[..., 0, :] = a
    F[..., np.arange(1, p), np.arange(p - 1)] = 1.0
    r = np.asarray(correlation, np.complex128)
    noise = np.maximum(noise_variance, 1e-6 * np.real(r[..., 0]))[..., None]
    q = np.asarray(innovation_variance, np.float64)
    # E[x_{t-i} x_{t-k}^*] = r(k - i): [..., p, p]
    P = np.swapaxes(_toeplitz(r, p), -1, -2)
    # Weights of the observations in the filtered state: [..., p, L]
    M = np.zeros(batch + (p, history_length), np.complex128)
    for t in range(history_length):
        if t > 0:
            M = F @ M
            P = F @ P @ np.conj(np.swapaxes(F, -1, -2))
            P[..., 0, 0] += q
        # Gain: [..., p]
        K = P[..., :, 0] / (np.real(P[..., 0, 0])[..., None] + noise)
        innov = -M[..., 0, :]
        innov[..., t] += 1.0
        M = M + K[..., :, None] * innov[..., None, :]
        P = P - K[..., :, None] * P[..., 0, None, :]
    out = []
    for _ in range(horizon):
        M = F @ M
        out.append(M[..., 0, ::-1])
    # [..., horizon, L], most recent observation first
    return np.stack(out, axis=-2)


class KalmanPredictor(LinearPredictor):
    # pylint: disable=line-too-long
    r"""Kalman predictor of an AR(p) state-space model fitted per environment

    Every entry (per delay tap in the angular-delay domain by default, see
    :data:`~lasco_sionna.prediction.linear.MODES`) follows an AR(``order``)
    model whose coefficients come from the Yule-Walker equations of the
    training sequences' autocorrelation, with the noise variance of noisy
    reports removed from :math:`r(0)`. The Kalman filter runs over the last
    ``history_length`` (noisy) reports and predicts ``horizon`` steps; since
    its gains do not depend on the data it is applied as the equivalent
    linear filter (:func:`kalman_coefficients`).

    Parameters
    ----------
    sequences : [num_sequences, num_reports, num_bs_ant, fft_size], `np.complex` | `tf.complex`
        Training sequences (``num_reports > order``), noisy like the
        histories the predictor will see

    order : `int`
        AR order :math:`p`

    history_length : `int`
        Reports filtered, :math:`L`

    horizon : `int`, (default 1)
        Predicted reports

    noise_variance : `float`, (default 0)
        Noise variance of each report entry (see
        :func:`~lasco_sionna.prediction.noisy_reports`)

    mode : "element" | "tap" | "shared", (default "tap")
        Groups of entries sharing a model

    regularization : `float`, (default 1e-3)
        Relative loading of :math:`r(0)` in the Yule-Walker equations (a
        stable AR model for nearly deterministic, slowly fading channels)

    precision : `None` (default) | "single" | "double"
        Precision of the computation and output

    Input
    -----
    history : [..., history_length, num_bs_ant, fft_size], `tf.complex`
        Past reports, oldest first

    Output
    ------
    prediction : [..., horizon, num_bs_ant, fft_size], `tf.complex`
        Predicted reports
    """

    def __init__(self, sequences, order, history_length, horizon=1,
                 noise_variance=0.0, mode="tap", regularization=1e-3,
                 precision=None):
        check_positive("order", order, integer=True)
        check_positive("regularization", regularization, allow_zero=True)
        check_positive("history_length", history_length, integer=True)
        check_positive("horizon", horizon, integer=True)
        check_positive("noise_variance", noise_variance, allow_zero=True)
        check_choice("mode", mode, MODES)
        r = autocorrelation(sequences, order, mode)
        power = np.real(r[..., 0]) - noise_variance
        if np.any(power <= 0):
            raise ValueError(f"`noise_variance`={noise_variance} is not below "
                             "the power of the training sequences "
                             f"(min {float(np.min(np.real(r[..., 0])))})")
        r[..., 0] = power
        a, q = yule_walker(r, order, regularization)
        c = kalman_coefficients(a, q, r, history_length, horizon,
                                noise_variance)
        super().__init__(c, mode, precision=precision)
        self.ar = a
