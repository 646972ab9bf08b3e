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
dimensions.
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
    num_users = h.shape[-2]
    check_positive("num_iterations", num_iterations, integer=True)
    check_positive("tol", tol, allow_zero=True)

    # [..., num_users, num_users]
    gram = tf.matmul(h, h, adjoint_b=True)
    no_eye = tf.cast(no, cdtype)[..., tf.newaxis, tf.newaxis] \
        * tf.eye(num_users, dtype=cdtype)

    def uplink(q):
        """``M = no I + diag(q) G`` and uplink SINRs [..., num_users]"""
        m = no_eye + tf.cast(q, cdtype)[..., tf.newaxis] * gram
        # diag(G M^{-1}) = conj(diag(M^{-H} G)): h_k Sigma^{-1} h_k^H
        gamma = tf.math.real(tf.linalg.diag_part(
            tf.linalg.solve(tf.linalg.adjoint(m), gram)))
        # q_k gamma_k = SINR_k / (1 + SINR_k)
        qg = q * gamma
        return m, qg / (1.0 - qg), gamma

    def spread(sinr):
        return tf.reduce_max(tf.reduce_max(sinr, -1) / tf.reduce_min(sinr, -1)) - 1.0

    def cond(i, q, change):
        del q
        return tf.logical_and(i < num_iterations, change > tol)

    def body(i, q, change):
        del change
        _, _, gamma = uplink(q)
        # I_k(q) = q_k / SINR_k = 1 / gamma_k - q_k
        interference = 1.0 / gamma - q
        q = power * interference / tf.reduce_sum(interference, -1,
                                                 keepdims=True)
        return i + 1, q, spread(uplink(q)[1])

    # [..., num_users]
    q = tf.ones_like(tf.math.real(gram[..., 0])) * power / num_users
    _, q, _ = tf.while_loop(cond, body, [tf.constant(0), q,
                                         tf.constant(float("inf"), rdtype)])
    m, sinr_ul, _ = uplink(q)

    # Downlink directions: MMSE receivers of the dual uplink, unit norm
    # [..., num_tx_ant, num_users]
    t = tf.matmul(h, tf.linalg.inv(m), adjoint_a=True)
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
