#
# SPDX-License-Identifier: Apache-2.0
#
"""The reference limit: Wiener prediction with the true temporal correlation (Jakes/Clarke)"""

import numpy as np
import scipy.linalg
import scipy.special

from lasco_sionna.prediction.linear import LinearPredictor
from lasco_sionna.utils.validation import check_finite, check_positive


def jakes_correlation(lags, max_doppler, report_period):
    r"""Clarke/Jakes temporal correlation :math:`J_0(2\pi f_D \tau)`

    Input
    -----
    lags : `int` | `np.ndarray`
        Lags in report periods

    max_doppler : `float`
        Maximum Doppler frequency :math:`f_D` [Hz] (see
        :func:`~lasco_sionna.channels.max_doppler`)

    report_period : `float`
        Report period [s]

    Output
    ------
    rho : same shape as ``lags``, `np.float64`
        Normalised correlation at ``tau = lags * report_period``
    """
    check_positive("max_doppler", max_doppler, allow_zero=True)
    check_positive("report_period", report_period)
    return scipy.special.j0(2 * np.pi * max_doppler * report_period
                            * np.asarray(lags, np.float64))


def _correlation(correlation, length):
    r = np.asarray(correlation, np.complex128).reshape(-1)
    if r.size < length:
        raise ValueError(f"`correlation` needs at least {length} lags "
                         f"(history_length + horizon), got {r.size}")
    check_finite("correlation", r)
    if not np.real(r[0]) > 0:
        raise ValueError(f"`correlation`[0] (the power) must be > 0, got "
                         f"{r[0]}")
    return r


def _normal_equations(r, history_length, horizon, noise_variance):
    # pylint: disable=line-too-long
    r"""Covariance of the noisy history and its correlation with the future

    Input
    -----
    r : [>= history_length + horizon], `np.complex128`
        :math:`r(0), r(1), \dots` (checked by :func:`_correlation`)

    history_length, horizon : `int`
        :math:`L`, :math:`H`

    noise_variance : `float`
        :math:`\sigma^2` of the history

    Output
    ------
    R : [history_length, history_length], `np.complex128`
        :math:`R_{ik} + \sigma^2\delta_{ik}`, :math:`R_{ik} = r(i-k)`
        (:math:`r(-m) = r(m)^*`)

    p : [horizon, history_length], `np.complex128`
        ``p[j-1, i]`` :math:`= r(j+i)`
    """
    L = history_length
    # R[i, k] = r(i - k), r(-m) = r(m)^*: [L, L]
    R = scipy.linalg.toeplitz(r[:L], r[:L].conj()) \
        + noise_variance * np.eye(L)
    # p[j-1, i] = r(j + i): [horizon, L]
    p = np.stack([r[j:j + L] for j in range(1, horizon + 1)], axis=0)
    return R, p


def wiener_coefficients(correlation, history_length, horizon,
                        noise_variance=0.0):
    # pylint: disable=line-too-long
    r"""MMSE linear predictor of a stationary process from its last noisy samples

    With :math:`r(m) = E[x_{t+m} x_t^*]` and white noise of variance
    :math:`\sigma^2` on the history, the coefficients of the prediction
    :math:`j` steps ahead solve
    :math:`(\mathbf{R} + \sigma^2\mathbf{I})\mathbf{c}_j = \mathbf{p}_j`,
    :math:`R_{ik} = r(i-k)`, :math:`(\mathbf{p}_j)_i = r(j+i)`.

    Input
    -----
    correlation : [>= history_length + horizon], `np.complex` | `np.float`
        :math:`r(0), r(1), \dots`

    history_length : `int`
        Past samples used, :math:`L`

    horizon : `int`
        Steps predicted, :math:`H`

    noise_variance : `float`, (default 0)
        :math:`\sigma^2` of the history (same unit as :math:`r(0)`)

    Output
    ------
    c : [horizon, history_length], `np.complex128`
        ``c[j-1, k]`` weights :math:`x_{t-k}` in the prediction of
        :math:`x_{t+j}`
    """
    check_positive("history_length", history_length, integer=True)
    check_positive("horizon", horizon, integer=True)
    check_positive("noise_variance", noise_variance, allow_zero=True)
    r = _correlation(correlation, history_length + horizon)
    R, p = _normal_equations(r, history_length, horizon, noise_variance)
    # lstsq copes with the near-singular R of a slowly fading noiseless process
    # [L, horizon]
    c = np.linalg.lstsq(R, p.T, rcond=1e-12)[0]
    # [horizon, L]
    return c.T


def linear_predictor_nmse(coefficients, correlation, noise_variance=0.0):
    # pylint: disable=line-too-long
    r"""Exact NMSE of any linear predictor on a stationary process (closed form)

    .. math::
        \text{NMSE}_j = \frac{r(0) - 2\,\mathrm{Re}(\mathbf{c}_j^\mathsf{T}
        \mathbf{p}_j^*) + \mathbf{c}_j^\mathsf{T}(\mathbf{R}+\sigma^2
        \mathbf{I})^\mathsf{T}\mathbf{c}_j^*}{r(0)}

    with :math:`\mathbf{R}`, :math:`\mathbf{p}_j` as in
    :func:`wiener_coefficients`. Sample-and-hold is ``c = [1, 0, ...]``:
    :math:`2(1 - \mathrm{Re}\,r(j)/r(0)) + \sigma^2/r(0)`.

    Input
    -----
    coefficients : [..., horizon, order], `np.complex`
        ``c[..., j-1, k]`` weights :math:`x_{t-k}`

    correlation : [>= order + horizon], `np.complex` | `np.float`
        :math:`r(0), r(1), \dots`

    noise_variance : `float`, (default 0)
        Noise variance of the history

    Output
    ------
    nmse : [..., horizon], `np.float64`
        Linear NMSE of each step ahead
    """
    check_positive("noise_variance", noise_variance, allow_zero=True)
    c = np.asarray(coefficients, np.complex128)
    H, L = c.shape[-2:]
    r = _correlation(correlation, L + H)
    R, p = _normal_equations(r, L, H, noise_variance)
    mse = (np.real(r[0]) - 2 * np.real(np.sum(c * p.conj(), axis=-1))
           # E[x_{t-k} x_{t-l}^*] = R[l, k]
           + np.real(np.einsum("...jk,lk,...jl->...j", c, R, c.conj())))
    return mse / np.real(r[0])


def wiener_nmse(correlation, history_length, horizon, noise_variance=0.0):
    # pylint: disable=line-too-long
    r"""Closed-form NMSE of the Wiener predictor: the limit of linear prediction

    Input
    -----
    correlation, history_length, horizon, noise_variance :
        As in :func:`wiener_coefficients`

    Output
    ------
    nmse : [horizon], `np.float64`
        :math:`1 - \mathbf{p}_j^\mathsf{H}(\mathbf{R}+\sigma^2\mathbf{I})^{-1}
        \mathbf{p}_j / r(0)` for every step ahead (evaluated with
        :func:`linear_predictor_nmse`, which equals it at the optimum)
    """
    c = wiener_coefficients(correlation, history_length, horizon,
                            noise_variance)
    return linear_predictor_nmse(c, correlation, noise_variance)


class WienerPredictor(LinearPredictor):
    # pylint: disable=line-too-long
    r"""Wiener predictor with a known temporal correlation (the reference limit)

    For a process whose entries share the temporal correlation
    :math:`r(m)` and whose space-frequency correlation is separable from it
    (TDL with a known maximum Doppler: :math:`J_0(2\pi f_D \tau)`), this is
    the MMSE-optimal linear predictor from the last ``history_length``
    reports; its NMSE is :func:`wiener_nmse`.

    Parameters
    ----------
    correlation : [>= history_length + horizon], `np.complex` | `np.float`
        :math:`r(0), r(1), \dots` at multiples of the report period

    history_length : `int`
        Past reports used, :math:`L`

    horizon : `int`, (default 1)
        Predicted reports, :math:`H`

    noise_variance : `float`, (default 0)
        Noise variance of the reports, relative to :math:`r(0)` (see
        :func:`~lasco_sionna.prediction.noisy_reports`)

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

    def __init__(self, correlation, history_length, horizon=1,
                 noise_variance=0.0, precision=None):
        c = wiener_coefficients(correlation, history_length, horizon,
                                noise_variance)
        super().__init__(c, "shared", precision=precision)
        self.correlation = np.asarray(correlation)
        self.noise_variance = float(noise_variance)

    @classmethod
    def jakes(cls, max_doppler, report_period, history_length, horizon=1,
              noise_variance=0.0, precision=None):
        """Wiener predictor for :func:`jakes_correlation` (same parameters)"""
        r = jakes_correlation(np.arange(history_length + horizon),
                              max_doppler, report_period)
        return cls(r, history_length, horizon, noise_variance, precision)

    def nmse(self):
        """[horizon], `np.float64` : Closed-form NMSE (:func:`linear_predictor_nmse`)"""
        return linear_predictor_nmse(self.coefficients.numpy(),
                                     self.correlation, self.noise_variance)
