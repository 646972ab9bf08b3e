#
# SPDX-License-Identifier: Apache-2.0
#
"""Max-min SINR precoding under a sum-power constraint (uplink-downlink duality)

For single-antenna users the max-min SINR downlink beamformer under a total
power ``P`` is (Schubert and Boche, 2004; Wiesel, Eldar and Shamai, 2006)
the MMSE receiver of the *dual uplink* with the optimal uplink powers ``q``
(``sum_k q_k = P``), and the optimal downlink powers balance all SINRs at
the same value as in the uplink. The uplink powers are the fixed point of
the normalised interference function (Cai, Quek, Tan and Low, 2011)

``q <- P I(q) / sum_k I_k(q)``,  ``I_k(q) = q_k / SINR_k^UL(q)``,

which converges geometrically from any positive start; ``SINR_k^UL`` uses
the MMSE receiver ``(no I + sum_j q_j h_j^H h_j)^{-1} h_k^H``. All
quantities are ``K x K`` (push-through identity), batched over any leading
dimensions. Each iteration evaluates the dual uplink once, through the
Cholesky factor of the Hermitian positive definite ``no I + D G D``
(``D = diag(sqrt(q))``, ``G = H H^H``), and the whole fixed point runs as one
graph (also when called eagerly).
"""

import tensorflow as tf
from sionna.phy import config, dtypes

from lasco_sionna.precoding.linear import (LinearPrecodedChannel,
                                           check_precoder_inputs)
from lasco_sionna.utils.validation import check_positive


def maxmin_precoding_matrix(h, no, power, num_iterations=200, tol=1e-5,
                            precision=None):
    # pylint: disable=line-too-long
    r"""Max-min SINR precoding matrices, batched over channel matrices

    Input
    -----
    h : [..., num_users, num_tx_ant], `tf.complex`
        Channels (row ``k``: user ``k``)

    no : `float` | tensor broadcastable to [...], `tf.float`
        Noise variance (> 0)

    power : `float`
        Total transmit power (> 0)

    num_iterations : `int`, (default 200)
        Maximum fixed-point iterations

    tol : `float`, (default 1e-5)
        Stop once ``max_k SINR_k / min_k SINR_k - 1 < tol`` (dual uplink)
        for every channel matrix

    precision : `None` (default) | "single" | "double"
        Precision of internal computations and outputs

    Output
    ------
    g : [..., num_tx_ant, num_users], `tf.complex`
        Precoding matrices: MMSE-type directions with the balancing powers
        (squared column norms, summing to ``power`` exactly)
    """
    precision = precision or config.precision
    rdtype = dtypes[precision]["tf"]["rdtype"]
    cdtype = dtypes[precision]["tf"]["cdtype"]
    h, no, power = check_precoder_inputs(h, no, power, 2, precision)
    check_positive("num_iterations", num_iterations, integer=True)
    check_positive("tol", tol, allow_zero=True)

    # [..., num_users, num_users]
    gram = tf.matmul(h, h, adjoint_b=True)
    q, gamma, chol = _uplink_fixed_point(gram, no, power,
                                         tf.constant(num_iterations),
                                         tf.constant(tol, rdtype))
    # A trace for relaxed shapes returns unknown dimensions
    for x, shape in ((q, gram.shape[:-1]), (gamma, gram.shape[:-1]),
                     (chol, gram.shape)):
        x.set_shape(shape)
    sinr_ul = _uplink_sinr(q, gamma)

    # Downlink directions: MMSE receivers of the dual uplink, unit norm:
    # M^{-1} = D A^{-1} D^{-1} (see _uplink_gamma), so the columns of
    # H^H M^{-1} are those of H^H D A^{-1} = (A^{-1} D H)^H scaled by
    # 1 / sqrt(q_k) > 0, which the normalisation removes
    d = tf.cast(tf.sqrt(q), cdtype)
    # [..., num_users, num_tx_ant]
    t = tf.linalg.cholesky_solve(chol, d[..., tf.newaxis] * h)
    # [..., num_tx_ant, num_users]
    t = tf.linalg.adjoint(t)
    t = tf.math.divide_no_nan(
        t, tf.cast(tf.norm(t, axis=-2, keepdims=True), cdtype))
    # Downlink powers balancing all SINRs at the dual uplink's value:
    # (diag(a_kk) / sinr - offdiag(a)) p = no 1
    # [..., num_users (rx), num_users (stream)]
    a = tf.abs(tf.matmul(h, t)) ** 2
    target = tf.exp(tf.reduce_mean(tf.math.log(sinr_ul), -1, keepdims=True))
    a_kk = tf.linalg.diag_part(a)
    lhs = tf.linalg.set_diag(-a, a_kk / target)
    p = tf.linalg.solve(lhs, no[..., tf.newaxis, tf.newaxis]
                        * tf.ones_like(a[..., :1]))[..., 0]
    p = tf.maximum(p, 0.0)
    p = power * p / tf.reduce_sum(p, -1, keepdims=True)
    return t * tf.cast(tf.sqrt(p), cdtype)[..., tf.newaxis, :]


def _uplink_sinr(q, gamma):
    r"""[..., num_users], `tf.float` : Dual-uplink SINRs from ``q_k gamma_k = SINR_k / (1 + SINR_k)``"""
    qg = q * gamma
    return qg / (1.0 - qg)


def _uplink_gamma(gram, no, q):
    # pylint: disable=line-too-long
    r"""``gamma_k = h_k Sigma^{-1} h_k^H`` of the dual uplink, by a Cholesky factorisation

    With ``D = diag(sqrt(q))``, ``B = D G D`` and ``A = no I + B``
    (Hermitian positive definite), ``M = no I + diag(q) G = D A D^{-1}``
    and, by the push-through identity, ``gamma_k = [G M^{-1}]_kk =
    [A^{-1} B]_kk / q_k``.

    Input
    -----
    gram : [..., num_users, num_users], `tf.complex`
        ``G = H H^H``

    no : [...], `tf.float`
        Noise variance

    q : [..., num_users], `tf.float`
        Uplink powers (> 0)

    Output
    ------
    gamma : [..., num_users], `tf.float`
        ``h_k Sigma^{-1} h_k^H``

    chol : [..., num_users, num_users], `tf.complex`
        Cholesky factor of ``A``
    """
    d = tf.cast(tf.sqrt(q), gram.dtype)
    # [..., num_users, num_users]
    b = d[..., :, tf.newaxis] * gram * d[..., tf.newaxis, :]
    a = tf.linalg.set_diag(b, tf.linalg.diag_part(b)
                           + tf.cast(no, gram.dtype)[..., tf.newaxis])
    chol = tf.linalg.cholesky(a)
    gamma = tf.math.real(tf.linalg.diag_part(tf.linalg.cholesky_solve(chol,
                                                                      b))) / q
    return gamma, chol


@tf.function(reduce_retracing=True)
def _uplink_fixed_point(gram, no, power, num_iterations, tol):
    # pylint: disable=line-too-long
    r"""Optimal dual-uplink powers by the normalised fixed point (one graph)

    One uplink evaluation per iteration: its ``gamma`` gives both the
    stopping test of the current powers and the next update. Stops after
    ``num_iterations`` or once the SINR spread ``max_k SINR_k / min_k
    SINR_k - 1`` of every matrix is at most ``tol``.

    Input
    -----
    gram, no :
        As in :func:`_uplink_gamma`

    power : [], `tf.float`
        Total power

    num_iterations : [], `tf.int32`
        Maximum iterations

    tol : [], `tf.float`
        SINR spread that stops the iterations

    Output
    ------
    q : [..., num_users], `tf.float`
        Uplink powers, summing to ``power``

    gamma : [..., num_users], `tf.float`
        ``h_k Sigma^{-1} h_k^H`` at ``q``

    chol : [..., num_users, num_users], `tf.complex`
        Cholesky factor of ``no I + D G D`` at ``q``
    """
    def spread(q, gamma):
        sinr = _uplink_sinr(q, gamma)
        return tf.reduce_max(tf.reduce_max(sinr, -1)
                             / tf.reduce_min(sinr, -1)) - 1.0

    def cond(i, q, gamma, chol, change):
        del q, gamma, chol
        return tf.logical_and(i < num_iterations, change > tol)

    def body(i, q, gamma, chol, change):
        del chol, change
        # I_k(q) = q_k / SINR_k = 1 / gamma_k - q_k
        interference = 1.0 / gamma - q
        q = power * interference / tf.reduce_sum(interference, -1,
                                                 keepdims=True)
        gamma, chol = _uplink_gamma(gram, no, q)
        return i + 1, q, gamma, chol, spread(q, gamma)

    # [..., num_users]
    q = tf.ones_like(tf.math.real(gram[..., 0])) * power \
        / tf.cast(tf.shape(gram)[-1], power.dtype)
    gamma, chol = _uplink_gamma(gram, no, q)
    _, q, gamma, chol, _ = tf.while_loop(
        cond, body, [tf.constant(0), q, gamma, chol,
                     tf.constant(float("inf"), q.dtype)])
    return q, gamma, chol


class MaxMinPrecodedChannel(LinearPrecodedChannel):
    # pylint: disable=line-too-long
    r"""Max-min SINR optimal precoder under a sum-power constraint

    See :func:`maxmin_precoding_matrix`; one precoder per subcarrier. The
    total power per resource element is the number of streams (as with
    unit-power streams), allocated so that all users get the same SINR.
    Noise-aware: needs ``no``.

    Parameters
    ----------
    resource_grid : :class:`~sionna.phy.ofdm.ResourceGrid`
        Resource grid

    stream_management : :class:`~sionna.phy.mimo.StreamManagement`
        Stream management

    num_iterations : `int`, (default 200)
        Maximum fixed-point iterations

    tol : `float`, (default 1e-5)
        Relative SINR spread that stops the iterations

    precision : `None` (default) | "single" | "double"
        Precision of internal computations and outputs

    Input
    -----
    See :class:`~lasco_sionna.precoding.LinearPrecodedChannel`.

    Output
    ------
    See :class:`~lasco_sionna.precoding.LinearPrecodedChannel`.
    """

    def __init__(self, resource_grid, stream_management, num_iterations=200,
                 tol=1e-5, precision=None):
        super().__init__(resource_grid, stream_management,
                         precision=precision)
        self.num_iterations = int(check_positive("num_iterations",
                                                 num_iterations, integer=True))
        self.tol = float(check_positive("tol", tol, allow_zero=True))

    def precoding_matrix(self, h_pc_desired, no=None):
        # [batch_size, num_tx, num_ofdm_symbols, fft_size]
        no = self.noise_variance(no, h_pc_desired)
        return maxmin_precoding_matrix(
            h_pc_desired, no, float(self.total_power),
            num_iterations=self.num_iterations, tol=self.tol,
            precision=self.precision)
