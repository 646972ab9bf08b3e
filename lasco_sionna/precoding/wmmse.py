#
# SPDX-License-Identifier: Apache-2.0
#
"""Weighted sum-rate precoding by WMMSE (Shi, Razaviyayn, Luo and He, 2011)

For single-antenna users ``y_k = h_k sum_j v_j s_j + n_k`` the weighted
sum-rate ``sum_k a_k log2(1 + SINR_k)`` under ``sum_k ||v_k||^2 = P`` is
maximised (to a stationary point) by block-coordinate descent on the
weighted MSE: MMSE receivers ``u_k``, MSE weights ``w_k = 1 + SINR_k``, then
the transmit update

``V = (sum_k a_k w_k |u_k|^2 h_k^H h_k + mu I)^{-1} [a_k w_k u_k h_k^H]_k``

with ``mu >= 0`` found by bisection so that the power constraint holds. Each
iteration never decreases the weighted sum-rate. On OFDM, one precoder can
serve a subband of subcarriers: the sums then also run over the subband's
subcarriers (objective = sum of the subband's rates), and one subcarrier per
subband is the per-subcarrier algorithm.

Everything is batched: all channel matrices, subbands and initialisations
go through one TensorFlow loop (no Python loop over subcarriers).
"""

import numpy as np
import tensorflow as tf
from sionna.phy import config, dtypes
from sionna.phy.mimo import cbf_precoding_matrix, rzf_precoding_matrix
from sionna.phy.utils import bisection_method, flatten_dims, log2, split_dim

from lasco_sionna.precoding.linear import (LinearPrecodedChannel,
                                           check_precoder_inputs)
from lasco_sionna.utils.validation import check_positive

WMMSE_INITS = ("rzf", "mrt", "random")


def _check_options(num_users, weights, subband_size, num_iterations, tol,
                   inits):
    """Validated WMMSE options (weights as a list of floats or `None`)"""
    check_positive("subband_size", subband_size, integer=True)
    check_positive("num_iterations", num_iterations, integer=True)
    check_positive("tol", tol, allow_zero=True)
    if isinstance(inits, str) or not inits:
        raise ValueError(f"`inits` must be a non-empty list of "
                         f"{WMMSE_INITS}, got {inits!r}")
    for name in inits:
        if name not in WMMSE_INITS:
            raise ValueError(f"unknown WMMSE initialisation {name!r}; "
                             f"valid: {WMMSE_INITS}")
    if weights is not None:
        weights = [float(check_positive(f"weights[{i}]", w))
                   for i, w in enumerate(weights)]
        if num_users is not None and len(weights) != num_users:
            raise ValueError(f"`weights` must have one entry per user "
                             f"({num_users}), got {len(weights)}")
    return weights


def _scale_to_power(g, power):
    # pylint: disable=line-too-long
    r"""Precoding matrices scaled to the total power ``||g||_F^2 = power`` (all-zero matrices stay zero)

    Input
    -----
    g : [..., num_tx_ant, num_users], `tf.complex`
        Precoding matrices

    power : [], `tf.float`
        Total power

    Output
    ------
    g : [..., num_tx_ant, num_users], `tf.complex`
        Scaled precoding matrices
    """
    # [..., 1, 1]
    pw = tf.reduce_sum(tf.abs(g) ** 2, axis=[-2, -1], keepdims=True)
    return g * tf.cast(tf.sqrt(tf.math.divide_no_nan(power, pw)), g.dtype)


def _initial_precoders(h_mid, no_mid, power, inits, seed, precision):
    """Initial precoders ``[num_inits, ..., num_subbands, num_tx_ant, K]``"""
    num_users, num_ant = h_mid.shape[-2:]
    v0 = []
    for i, name in enumerate(inits):
        if name == "rzf":
            # MMSE regularisation for total power `power`: K no / P
            g = rzf_precoding_matrix(h_mid, no_mid * num_users / power,
                                     precision=precision)
        elif name == "mrt":
            g = cbf_precoding_matrix(h_mid, precision=precision)
        else:
            shape = tf.concat([tf.shape(h_mid)[:-2], [num_ant, num_users]], 0)
            re, im = (tf.random.stateless_normal(shape, [seed, 2 * i + j],
                                                 dtype=no_mid.dtype)
                      for j in (0, 1))
            g = tf.complex(re, im)
        v0.append(_scale_to_power(g, power))
    return tf.stack(v0, axis=0)


def wmmse_precoding_matrix(h, no, power, weights=None, subband_size=1,
                           num_iterations=100, tol=1e-5, inits=WMMSE_INITS,
                           seed=0, return_history=False, precision=None):
    # pylint: disable=line-too-long
    r"""WMMSE sum-rate precoding matrices, batched over channels and subbands

    Runs WMMSE from every initialisation in ``inits`` and keeps, per channel
    and subband, the precoder with the highest weighted sum-rate. Iterations
    stop after ``num_iterations`` or once no weighted sum-rate (of any
    channel, subband and initialisation) grew by more than ``tol``
    (relative) in the last iteration. The power constraint holds exactly:
    ``||V||_F^2 = power`` on every subcarrier.

    Input
    -----
    h : [..., num_subcarriers, num_users, num_tx_ant], `tf.complex`
        Channels (row ``k``: user ``k``); ``num_subcarriers`` must be a
        multiple of ``subband_size``

    no : `float` | tensor broadcastable to [..., num_subcarriers], `tf.float`
        Noise variance (> 0)

    power : `float`
        Total transmit power per subcarrier (> 0)

    weights : `None` (default) | [num_users], `float`
        Rate weights ``a_k`` (> 0); all ones if `None`

    subband_size : `int`, (default 1)
        Subcarriers sharing one precoder (1: per subcarrier)

    num_iterations : `int`, (default 100)
        Maximum number of iterations

    tol : `float`, (default 1e-5)
        Relative sum-rate improvement below which the iterations stop

    inits : `list` of "rzf" | "mrt" | "random", (default ("rzf", "mrt", "random"))
        Initialisations (scaled to ``power``); RZF uses the MMSE
        regularisation ``K no / power`` and, like MRT, the middle subcarrier
        of each subband; each "random" entry is a different i.i.d. draw

    seed : `int`, (default 0)
        Seed of the random initialisations (stateless: same input, same output)

    return_history : `bool`, (default `False`)
        Also return the weighted sum-rate after every iteration

    precision : `None` (default) | "single" | "double"
        Precision of internal computations and outputs

    Output
    ------
    g : [..., num_subcarriers, num_tx_ant, num_users], `tf.complex`
        Precoding matrices (column ``k``: user ``k``; squared column norms
        are the users' powers)

    history : [num_done + 1, num_inits, ..., num_subbands], `tf.float`
        Only if ``return_history``: weighted sum-rate [bit/s/Hz, summed
        over the subband's subcarriers] of the initial precoders and after
        each of the ``num_done`` iterations
    """
    precision = precision or config.precision
    rdtype = dtypes[precision]["tf"]["rdtype"]
    cdtype = dtypes[precision]["tf"]["cdtype"]
    h, no, power = check_precoder_inputs(h, no, power, 3, precision)
    num_sc, num_users, num_ant = h.shape[-3:]
    weights = _check_options(num_users, weights, subband_size,
                             num_iterations, tol, inits)
    if num_sc % subband_size:
        raise ValueError(f"num_subcarriers={num_sc} must be a multiple of "
                         f"subband_size={subband_size}")
    alpha = tf.ones([num_users], rdtype) if weights is None \
        else tf.constant(weights, rdtype)

    rank = h.shape.rank
    s = subband_size
    # [..., num_subbands, subband_size, num_users, num_tx_ant]
    hs = split_dim(h, [num_sc // s, s], rank - 3)
    # [..., num_subbands, subband_size]
    nos = split_dim(no, [num_sc // s, s], rank - 3)
    # [num_inits, ..., num_subbands, num_tx_ant, num_users]
    v = _initial_precoders(hs[..., s // 2, :, :], nos[..., s // 2], power,
                           inits, seed, precision)
    m = s * num_users
    # Relative eigenvalue threshold of the pseudo-inverse
    eps = 1e3 * np.finfo(rdtype.as_numpy_dtype).eps

    def receivers(v):
        """Signal, interference-plus-noise [num_inits, ..., nb, s, K], r"""
        # [num_inits, ..., num_subbands, subband_size, K (rx), K (stream)]
        r = tf.matmul(hs, v[..., tf.newaxis, :, :])
        gain = tf.abs(r) ** 2
        sig = tf.linalg.diag_part(gain)
        inn = tf.reduce_sum(gain, axis=-1) - sig + nos[..., tf.newaxis]
        return sig, inn, tf.linalg.diag_part(r)

    def sum_rate(v):
        """Weighted sum-rate per subband [num_inits, ..., num_subbands]"""
        sig, inn, _ = receivers(v)
        return tf.reduce_sum(alpha * log2(1.0 + sig / inn), axis=[-2, -1])

    def update(v):
        """One WMMSE iteration: receivers, weights, then the precoders"""
        sig, inn, r_kk = receivers(v)
        tot = sig + inn
        u = r_kk / tf.cast(tot, cdtype)        # MMSE receivers
        w = tot / inn                           # 1 / MSE = 1 + SINR
        abs_u = tf.abs(u)
        # Weighted channel rows sqrt(a w) |u| h_k and the right-hand side
        # H~^H F with F[(f, k), k] = sqrt(a w) u / |u|
        # [num_inits, ..., num_subbands, subband_size, K, num_tx_ant]
        ht = tf.cast(tf.sqrt(alpha * w) * abs_u, cdtype)[..., tf.newaxis] * hs
        phase = tf.math.divide_no_nan(u, tf.cast(abs_u, cdtype))
        # [num_inits, ..., num_subbands, subband_size, K, K]
        f = tf.linalg.diag(tf.cast(tf.sqrt(alpha * w), cdtype) * phase)
        # [num_inits, ..., num_subbands, subband_size * K, num_tx_ant]
        ht = flatten_dims(ht, 2, rank - 1)
        # [num_inits, ..., num_subbands, subband_size * K, K]
        f = flatten_dims(f, 2, rank - 1)
        if m <= num_ant:
            # V = H~^H (H~ H~^H + mu I)^{-1} F: eigenvalues of the m x m Gram
            lam, q = tf.linalg.eigh(tf.matmul(ht, ht, adjoint_b=True))
            lam = tf.math.real(lam)
            # [num_inits, ..., num_subbands, m, K]
            c = tf.matmul(q, f, adjoint_a=True)
            # [num_inits, ..., num_subbands, num_tx_ant, m]
            lead = tf.matmul(ht, q, adjoint_a=True)
            num = lam * tf.reduce_sum(tf.abs(c) ** 2, axis=-1)
        else:
            # V = (H~^H H~ + mu I)^{-1} H~^H F
            lam, q = tf.linalg.eigh(tf.matmul(ht, ht, adjoint_a=True))
            lam = tf.math.real(lam)
            # [num_inits, ..., num_subbands, num_tx_ant, K]
            c = tf.matmul(q, tf.matmul(ht, f, adjoint_a=True), adjoint_a=True)
            lead = q
            num = tf.reduce_sum(tf.abs(c) ** 2, axis=-1)
        # Null space of the weighted covariance: pseudo-inverse
        keep = lam > eps * tf.reduce_max(lam, axis=-1, keepdims=True)
        num = tf.where(keep, num, tf.zeros_like(num))

        def excess_power(mu):
            """||V(mu)||^2 - power, decreasing in mu"""
            den = (lam + mu[..., tf.newaxis]) ** 2
            return tf.reduce_sum(tf.math.divide_no_nan(num, den), -1) - power

        mu_max = tf.sqrt(tf.reduce_sum(num, axis=-1) / power)
        mu, _ = bisection_method(excess_power, tf.zeros_like(mu_max), mu_max,
                                 expand_to_left=False, expand_to_right=False,
                                 eps_x=0.0, eps_y=0.0, max_n_iter=64,
                                 precision=precision)
        coef = tf.where(keep, tf.math.divide_no_nan(
            tf.ones_like(lam), lam + mu[..., tf.newaxis]), tf.zeros_like(lam))
        # [num_inits, ..., num_subbands, num_tx_ant, K]
        v = tf.matmul(lead, tf.cast(coef, cdtype)[..., tf.newaxis] * c)
        # Exact power (mu = 0 with power to spare: scaling up only helps)
        return _scale_to_power(v, power)

    rate = sum_rate(v)
    history = tf.TensorArray(rdtype, size=0, dynamic_size=True)
    history = history.write(0, rate)

    def cond(i, v, rate, change, history):
        del v, rate, history
        return tf.logical_and(i < num_iterations, change > tol)

    def body(i, v, rate, change, history):
        del change
        v = update(v)
        new = sum_rate(v)
        change = tf.reduce_max(tf.math.divide_no_nan(tf.abs(new - rate),
                                                     tf.abs(rate)))
        history = history.write(i + 1, new)
        return i + 1, v, new, change, history

    _, v, rate, _, history = tf.while_loop(
        cond, body, [tf.constant(0), v, rate,
                     tf.constant(float("inf"), rdtype), history])

    # Best initialisation per channel and subband
    # [num_inits, ..., num_subbands]
    best = tf.one_hot(tf.argmax(rate, axis=0), len(inits), axis=0,
                      dtype=cdtype)
    # [..., num_subbands, num_tx_ant, num_users]
    v = tf.reduce_sum(best[..., tf.newaxis, tf.newaxis] * v, axis=0)
    # [..., num_subcarriers, num_tx_ant, num_users]
    g = tf.repeat(v, s, axis=rank - 3)
    if return_history:
        return g, history.stack()
    return g


class WMMSEPrecodedChannel(LinearPrecodedChannel):
    # pylint: disable=line-too-long
    r"""WMMSE weighted sum-rate precoder (best of several initialisations)

    See :func:`wmmse_precoding_matrix`. The total power per resource element
    is the number of streams (the package's convention: the same total as
    unit-power streams), allocated across users; the columns' squared norms
    are the users' powers. Noise-aware: needs ``no``.

    Parameters
    ----------
    resource_grid : :class:`~sionna.phy.ofdm.ResourceGrid`
        Resource grid

    stream_management : :class:`~sionna.phy.mimo.StreamManagement`
        Stream management

    weights : `None` (default) | `list` of `float`
        Per-user rate weights (> 0, one per stream); equal if `None`

    subband_size : `int`, (default 1)
        Subcarriers sharing one precoder; must divide ``fft_size``

    num_iterations : `int`, (default 100)
        Maximum WMMSE iterations

    tol : `float`, (default 1e-5)
        Relative sum-rate improvement that stops the iterations

    inits : `list` of `str`, (default ("rzf", "mrt", "random"))
        Initialisations, see :func:`wmmse_precoding_matrix`

    seed : `int`, (default 0)
        Seed of the random initialisations

    precision : `None` (default) | "single" | "double"
        Precision of internal computations and outputs

    Input
    -----
    See :class:`~lasco_sionna.precoding.LinearPrecodedChannel`.

    Output
    ------
    See :class:`~lasco_sionna.precoding.LinearPrecodedChannel`.
    """

    def __init__(self, resource_grid, stream_management, weights=None,
                 subband_size=1, num_iterations=100, tol=1e-5,
                 inits=WMMSE_INITS, seed=0, precision=None):
        super().__init__(resource_grid, stream_management,
                         precision=precision)
        self.weights = _check_options(self.total_power, weights, subband_size,
                                      num_iterations, tol, inits)
        if resource_grid.fft_size % subband_size:
            raise ValueError(f"subband_size={subband_size} must divide "
                             f"fft_size={resource_grid.fft_size}")
        self.subband_size = int(subband_size)
        self.num_iterations = int(num_iterations)
        self.tol = float(tol)
        self.inits = tuple(inits)
        self.seed = int(check_positive("seed", seed, integer=True,
                                       allow_zero=True))

    def precoding_matrix(self, h_pc_desired, no=None):
        # [batch_size, num_tx, num_ofdm_symbols, fft_size]
        no = self.noise_variance(no, h_pc_desired)
        return wmmse_precoding_matrix(
            h_pc_desired, no, float(self.total_power), weights=self.weights,
            subband_size=self.subband_size,
            num_iterations=self.num_iterations, tol=self.tol,
            inits=self.inits, seed=self.seed, precision=self.precision)
