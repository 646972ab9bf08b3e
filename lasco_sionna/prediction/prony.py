#
# SPDX-License-Identifier: Apache-2.0
#
"""Vector Prony / matrix-pencil predictor: a few Doppler modes shared by every entry"""

import tensorflow as tf

from lasco_sionna.prediction.base import ChannelPredictor
from lasco_sionna.utils.validation import check_positive


class PronyPredictor(ChannelPredictor):
    # pylint: disable=line-too-long
    r"""Vector Prony (matrix-pencil) predictor, fitted on each history alone

    Models every entry of one UE's history as a sum of ``num_modes``
    complex exponentials with poles :math:`z_m` *shared* by all entries
    (the paths' Doppler shifts), :math:`x_{e,t} = \sum_m A_{e,m} z_m^t`.
    The poles are the eigenvalues of the matrix pencil
    :math:`\mathbf{V}_1^+\mathbf{V}_2` of the dominant right singular
    vectors :math:`\mathbf{V}` of the stacked Hankel matrices of all entries
    (pencil parameter :math:`P = \max(M, \lfloor L/2 \rfloor)`), clipped to
    the unit circle (no growing modes); the amplitudes are a least-squares
    fit per entry (diagonal loading ``regularization``); the prediction
    extrapolates the exponentials. Nothing is trained.

    Parameters
    ----------
    num_modes : `int`
        Number of exponentials :math:`M`

    horizon : `int`, (default 1)
        Predicted reports

    regularization : `float`, (default 1e-3)
        Relative diagonal loading of the amplitude fit

    precision : `None` (default) | "single" | "double"
        Precision of the computation and output

    Input
    -----
    history : [..., history_length, num_bs_ant, fft_size], `tf.complex`
        Past reports, oldest first (``history_length >= 2 num_modes``)

    Output
    ------
    prediction : [..., horizon, num_bs_ant, fft_size], `tf.complex`
        Predicted reports
    """

    def __init__(self, num_modes, horizon=1, regularization=1e-3,
                 precision=None):
        super().__init__(horizon, precision=precision)
        check_positive("num_modes", num_modes, integer=True)
        check_positive("regularization", regularization, allow_zero=True)
        self._num_modes = int(num_modes)
        self._regularization = float(regularization)

    @property
    def min_history(self):
        return 2 * self._num_modes

    def _predict(self, history):
        m = self._num_modes
        shape = tf.shape(history)
        L = history.shape[-3]
        P = max(m, L // 2)
        # [B, L, E]: one row of E = num_bs_ant * fft_size entries per report
        x = tf.reshape(history, [-1, L, history.shape[-2] * history.shape[-1]])
        # Hankel windows: [B, L - P, P + 1, E]
        win = tf.stack([x[:, i:i + P + 1] for i in range(L - P)], axis=1)
        # Gram of the stacked Hankel rows: [B, P + 1, P + 1]
        gram = tf.einsum("bwie,bwje->bij", tf.math.conj(win), win)
        # Dominant right singular vectors V (Y = U S V^H); the signal
        # subspace [1, z, ..., z^P] is spanned by conj(V): [B, P + 1, M]
        _, vec = tf.linalg.eigh(gram)
        v = tf.math.conj(vec[..., -m:])
        # Pencil: V1^+ V2: [B, M, M]
        pencil = tf.linalg.lstsq(v[:, :-1], v[:, 1:], fast=False)
        # Poles, at most unit modulus: [B, M]
        z = tf.linalg.eigvals(pencil)
        mag = tf.cast(tf.maximum(tf.abs(z), 1.0), z.dtype)
        z = tf.cast(z / mag, self.cdtype)
        # Vandermonde z^t over history and future: [B, L + H, M]
        steps = tf.tile(z[:, None, :], [1, L + self.horizon - 1, 1])
        vander = tf.math.cumprod(
            tf.concat([tf.ones_like(steps[:, :1]), steps], axis=1), axis=1)
        past, future = vander[:, :L], vander[:, L:]
        # Amplitudes (ridge least squares): [B, M, E]
        g = tf.matmul(past, past, adjoint_a=True)
        load = self._regularization * tf.cast(
            tf.linalg.trace(g) / m, self.cdtype)
        g = g + load[:, None, None] * tf.eye(m, dtype=self.cdtype)
        amp = tf.linalg.solve(g, tf.matmul(past, x, adjoint_a=True))
        # [B, H, E]
        y = tf.matmul(future, amp)
        out_shape = tf.concat([shape[:-3], [self.horizon], shape[-2:]], 0)
        # [..., horizon, num_bs_ant, fft_size]
        return tf.reshape(y, out_shape)
