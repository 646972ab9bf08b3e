#
# SPDX-License-Identifier: Apache-2.0
#
"""CSI reconstruction metrics: NMSE, generalised cosine similarity, SGCS"""

import tensorflow as tf
from sionna.phy.utils import log10, split_dim

from lasco_sionna.utils.validation import check_channel_tensor, check_positive


def _check_pair(h, h_hat):
    h = tf.convert_to_tensor(h)
    h_hat = tf.convert_to_tensor(h_hat)
    h = check_channel_tensor("h", h, last_dims=(None, None))
    h_hat = check_channel_tensor("h_hat", h_hat, last_dims=(None, None))
    if tuple(h.shape) != tuple(h_hat.shape):
        raise ValueError(f"`h` and `h_hat` must have the same shape, got "
                         f"{tuple(h.shape)} and {tuple(h_hat.shape)}")
    return h, tf.cast(h_hat, h.dtype)


def nmse(h, h_hat):
    r"""Normalised mean squared error of each CSI image

    .. math::
        \text{NMSE} = \frac{\|\mathbf{H}-\hat{\mathbf{H}}\|_F^2}{\|\mathbf{H}\|_F^2}

    Input
    -----
    h : [..., num_ant, num_sc], `tf.complex`
        True channels (spatial-frequency or angular-delay)

    h_hat : [..., num_ant, num_sc], `tf.complex`
        Reconstructions

    Output
    ------
    nmse : [...], `tf.float`
        Linear NMSE per image; average over images and take
        ``10 log10`` for the usual dB figure (see :func:`nmse_db`)
    """
    h, h_hat = _check_pair(h, h_hat)
    err = tf.reduce_sum(tf.abs(h - h_hat) ** 2, axis=[-2, -1])
    ref = tf.reduce_sum(tf.abs(h) ** 2, axis=[-2, -1])
    return err / ref


def nmse_db(h, h_hat):
    r"""Mean NMSE over all images [dB]: ``10 log10(mean(nmse(h, h_hat)))``

    Input
    -----
    h, h_hat : [..., num_ant, num_sc], `tf.complex`
        True and reconstructed channels

    Output
    ------
    nmse_db : [], `tf.float`
        NMSE [dB]
    """
    e = tf.reduce_mean(nmse(h, h_hat))
    return 10.0 * log10(e)


def cosine_similarity(h, h_hat):
    r"""Generalised cosine similarity :math:`\rho` (CsiNet's metric)

    .. math::
        \rho = \frac{1}{N_c}\sum_{n=1}^{N_c}
        \frac{|\hat{\mathbf{h}}_n^{\mathsf{H}}\mathbf{h}_n|}
        {\|\hat{\mathbf{h}}_n\|\,\|\mathbf{h}_n\|}

    where :math:`\mathbf{h}_n` is the channel over antennas at subcarrier
    :math:`n`.

    Input
    -----
    h, h_hat : [..., num_ant, num_sc], `tf.complex`
        True and reconstructed spatial-frequency channels

    Output
    ------
    rho : [...], `tf.float`
        In [0, 1]; subcarriers where either vector is zero count as 0
    """
    h, h_hat = _check_pair(h, h_hat)
    inner = tf.abs(tf.reduce_sum(tf.math.conj(h_hat) * h, axis=-2))
    norms = tf.norm(h, axis=-2) * tf.norm(h_hat, axis=-2)
    return tf.reduce_mean(tf.math.divide_no_nan(inner, tf.abs(norms)),
                          axis=-1)


def sgcs(h, h_hat, num_subbands=1):
    r"""Squared generalised cosine similarity of per-subband eigenvectors

    The 3GPP Rel-18/19 intermediate KPI for AI/ML CSI compression: for each
    subband :math:`s`, :math:`\mathbf{v}_s` is the dominant eigenvector of
    :math:`\mathbf{R}_s = \sum_{n\in s}\mathbf{h}_n\mathbf{h}_n^{\mathsf{H}}`
    (the best single-layer precoder for that subband) and

    .. math::
        \text{SGCS} = \frac{1}{S}\sum_s
        \frac{|\hat{\mathbf{v}}_s^{\mathsf{H}}\mathbf{v}_s|^2}
        {\|\hat{\mathbf{v}}_s\|^2\|\mathbf{v}_s\|^2}

    Input
    -----
    h, h_hat : [..., num_ant, num_sc], `tf.complex`
        True and reconstructed spatial-frequency channels

    num_subbands : `int`, (default 1)
        Number of equal subbands (must divide ``num_sc``)

    Output
    ------
    sgcs : [...], `tf.float`
        In [0, 1]
    """
    h, h_hat = _check_pair(h, h_hat)
    check_positive("num_subbands", num_subbands, integer=True)
    num_ant, num_sc = h.shape[-2], h.shape[-1]
    if num_sc % num_subbands:
        raise ValueError(f"`num_subbands`={num_subbands} must divide the "
                         f"number of subcarriers {num_sc}")

    def dominant(x):
        # [..., num_ant, num_subbands, sc_per_subband]
        x = split_dim(x, [num_subbands, num_sc // num_subbands],
                      len(x.shape) - 1)
        # [..., num_subbands, num_ant, sc_per_subband]
        x = tf.experimental.numpy.swapaxes(x, -3, -2)
        # [..., num_subbands, num_ant, num_ant]
        r = tf.matmul(x, x, adjoint_b=True)
        _, v = tf.linalg.eigh(r)
        # Eigenvalues ascending: [..., num_subbands, num_ant]
        return v[..., -1]

    del num_ant
    v, v_hat = dominant(h), dominant(h_hat)
    inner = tf.abs(tf.reduce_sum(tf.math.conj(v_hat) * v, axis=-1)) ** 2
    return tf.reduce_mean(inner, axis=-1)
