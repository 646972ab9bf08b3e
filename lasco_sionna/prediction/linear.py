#
# SPDX-License-Identifier: Apache-2.0
#
"""Linear FIR predictors over the last reports, coefficients per element, per delay tap or shared"""

import numpy as np
import tensorflow as tf

from lasco_sionna.csi.representation import (
    angular_delay_to_spatial_frequency, spatial_frequency_to_angular_delay)
from lasco_sionna.prediction.base import (ChannelPredictor, as_numpy_complex,
                                          check_history, last_reports)
from lasco_sionna.utils.validation import check_choice

#: Where the coefficients of a linear predictor live
#: ("element": per antenna-subcarrier entry, spatial-frequency domain;
#: "tap": per delay tap, angular-delay domain, shared across angles;
#: "shared": one set for every entry)
MODES = ("element", "tap", "shared")


def to_domain(x, mode, precision=None):
    # pylint: disable=line-too-long
    r"""Reports in the domain of a mode: angular-delay for "tap", unchanged otherwise

    The angular-delay transform keeps every delay tap (``num_taps =
    fft_size``), so it is unitary and :func:`from_domain` inverts it.

    Input
    -----
    x : [..., num_bs_ant, fft_size], `tf.complex`
        Reports (spatial-frequency domain)

    mode : "element" | "tap" | "shared"
        Mode (see :data:`MODES`)

    precision : `None` (default) | "single" | "double"
        Precision of the transform

    Output
    ------
    x : [..., num_bs_ant, fft_size], `tf.complex`
        Reports in the mode's domain
    """
    if mode != "tap":
        return x
    return spatial_frequency_to_angular_delay(x, num_taps=x.shape[-1],
                                              precision=precision)


def from_domain(x, mode, precision=None):
    """Inverse of :func:`to_domain` (same shapes)"""
    if mode != "tap":
        return x
    return angular_delay_to_spatial_frequency(x, x.shape[-1],
                                              precision=precision)


def group_sum(v, mode):
    """Sum ``v`` [..., num_bs_ant, fft_size] over the entries sharing coefficients -> [..., *group_shape(mode)]"""
    if mode == "shared":
        return v.sum(axis=(-2, -1))
    if mode == "tap":
        return v.sum(axis=-2)
    return v


def domain_sequences(sequences, mode):
    """[N, T, num_bs_ant, fft_size] `np.complex128` reports in the domain of ``mode``"""
    x = check_history(sequences, 1, name="sequences")
    return as_numpy_complex(to_domain(x, mode, precision="double"))


def autocorrelation(sequences, max_lag, mode="shared"):
    # pylint: disable=line-too-long
    r"""Temporal autocorrelation :math:`r(m) = E[x_{t+m} x_t^*]` per coefficient group

    Averaged over sequences, time and the entries of a group.

    Input
    -----
    sequences : [num_sequences, num_reports, num_bs_ant, fft_size], `np.complex` | `tf.complex`
        Report sequences (``num_reports > max_lag``)

    max_lag : `int`
        Largest lag :math:`m`

    mode : "element" | "tap" | "shared", (default "shared")
        Groups (see :data:`MODES`)

    Output
    ------
    r : [*group_shape, max_lag + 1], `np.complex128`
        :math:`r(0), \dots, r(m)`; group shape ``[num_bs_ant, fft_size]``,
        ``[fft_size]`` or ``[]``
    """
    check_choice("mode", mode, MODES)
    x = domain_sequences(sequences, mode)
    n, t = x.shape[:2]
    if t <= max_lag:
        raise ValueError(f"`max_lag`={max_lag} needs more than {max_lag} "
                         f"reports per sequence, got {t}")
    per_group = {"shared": x.shape[2] * x.shape[3], "tap": x.shape[2],
                 "element": 1}[mode]
    r = [group_sum(np.einsum("nwac,nwac->ac", x[:, m:], x[:, :t - m].conj()),
                   mode) / (n * (t - m) * per_group)
         for m in range(max_lag + 1)]
    return np.stack(r, axis=-1)


def least_squares_coefficients(sequences, order, horizon, mode="tap",
                               regularization=1e-8):
    # pylint: disable=line-too-long
    r"""Direct multi-step least-squares (Wiener) coefficients fitted on report sequences

    For every group and every step :math:`j = 1..H`, minimises
    :math:`\sum |x_{t+j} - \sum_{k=0}^{p-1} c_{j,k}\, x_{t-k}|^2` over every
    window of every sequence and every entry of the group (normal
    equations, diagonal loading ``regularization`` times the mean diagonal).

    Input
    -----
    sequences : [num_sequences, num_reports, num_bs_ant, fft_size], `np.complex` | `tf.complex`
        Training sequences (``num_reports >= order + horizon``)

    order : `int`
        Number of past reports used, :math:`p`

    horizon : `int`
        Number of predicted reports, :math:`H`

    mode : "element" | "tap" | "shared", (default "tap")
        Coefficient groups (see :data:`MODES`)

    regularization : `float`, (default 1e-8)
        Relative diagonal loading of the normal equations

    Output
    ------
    c : [*group_shape, horizon, order], `np.complex128`
        ``c[..., j-1, k]`` weights :math:`x_{t-k}` in the prediction of
        :math:`x_{t+j}`
    """
    check_choice("mode", mode, MODES)
    x = domain_sequences(sequences, mode)
    t = x.shape[1]
    if t < order + horizon:
        raise ValueError(f"fitting order={order}, horizon={horizon} needs "
                         f"at least {order + horizon} reports per sequence, "
                         f"got {t}")
    w = t - order - horizon + 1
    # Regressor k (report t-k) and target j (report t+j) of every window
    reg = [x[:, order - 1 - k:order - 1 - k + w] for k in range(order)]
    tgt = [x[:, order + j:order + j + w] for j in range(horizon)]
    gram = np.stack([np.stack([group_sum(np.einsum(
        "nwac,nwac->ac", reg[k].conj(), reg[l]), mode) for l in range(order)],
        axis=-1) for k in range(order)], axis=-2)
    # [*group, order, order]
    rhs = np.stack([np.stack([group_sum(np.einsum(
        "nwac,nwac->ac", reg[k].conj(), tgt[j]), mode) for j in range(horizon)],
        axis=-1) for k in range(order)], axis=-2)
    # [*group, order, horizon]
    load = regularization * np.real(np.trace(gram, axis1=-2, axis2=-1)) / order
    gram = gram + load[..., None, None] * np.eye(order)
    c = np.linalg.solve(gram, rhs)
    # [*group, horizon, order]
    return np.swapaxes(c, -1, -2)


class LinearPredictor(ChannelPredictor):
    # pylint: disable=line-too-long
    r"""Linear FIR predictor: :math:`\hat{x}_{t+j} = \sum_{k=0}^{p-1} c_{j,k}\, x_{t-k}`

    Applied to every entry of the reports, in the spatial-frequency domain
    (modes "element", "shared") or the angular-delay domain (mode "tap",
    all ``fft_size`` delay taps kept, so nothing is truncated). The base of
    :class:`~lasco_sionna.prediction.ARPredictor`,
    :class:`~lasco_sionna.prediction.KalmanPredictor` and
    :class:`~lasco_sionna.prediction.WienerPredictor`.

    Parameters
    ----------
    coefficients : [*group_shape, horizon, order], `np.complex`
        ``coefficients[..., j-1, k]`` weights the report ``k`` periods
        before the last one in the prediction ``j`` periods ahead. Group
        shape: ``[num_bs_ant, fft_size]`` ("element"), ``[fft_size]``
        ("tap") or ``[]`` ("shared")

    mode : "element" | "tap" | "shared", (default "shared")
        Where the coefficients live (see :data:`MODES`)

    precision : `None` (default) | "single" | "double"
        Precision of the computation and output

    Input
    -----
    history : [..., history_length, num_bs_ant, fft_size], `tf.complex`
        Past reports, oldest first (``history_length >= order``; only the
        last ``order`` are used)

    Output
    ------
    prediction : [..., horizon, num_bs_ant, fft_size], `tf.complex`
        Predicted reports
    """

    def __init__(self, coefficients, mode="shared", precision=None):
        check_choice("mode", mode, MODES)
        c = np.asarray(coefficients)
        rank = {"element": 4, "tap": 3, "shared": 2}[mode]
        if c.ndim != rank:
            raise ValueError(f"`coefficients` of mode {mode!r} must have rank "
                             f"{rank}, got shape {c.shape}")
        if not np.all(np.isfinite(c)):
            raise ValueError("`coefficients` contain NaN/Inf entries")
        num_bs_ant = c.shape[0] if mode == "element" else None
        fft_size = c.shape[-3] if mode != "shared" else None
        super().__init__(c.shape[-2], num_bs_ant, fft_size,
                         precision=precision)
        self._mode = mode
        self._c = tf.constant(c, self.cdtype)

    @property
    def mode(self):
        """`str` : Coefficient mode"""
        return self._mode

    @property
    def order(self):
        """`int` : Number of past reports used"""
        return int(self._c.shape[-1])

    @property
    def min_history(self):
        return self.order

    @property
    def coefficients(self):
        """[*group_shape, horizon, order], `tf.complex` : Coefficients"""
        return self._c

    def _predict(self, history):
        x = to_domain(last_reports(history, self.order), self._mode,
                      self.precision)
        # Most recent first: [..., order, num_bs_ant, fft_size]
        x = tf.reverse(x, axis=[-3])
        eq = {"shared": "hk,...kac->...hac", "tap": "chk,...kac->...hac",
              "element": "achk,...kac->...hac"}[self._mode]
        # [..., horizon, num_bs_ant, fft_size]
        y = tf.einsum(eq, self._c, x)
        return from_domain(y, self._mode, self.precision)
