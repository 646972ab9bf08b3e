#
# SPDX-License-Identifier: Apache-2.0
#
"""CSI representations: spatial-frequency <-> angular-delay, truncation, real images, normalisation

The CSI image of one user is its downlink channel ``H in C^{Nt x F}`` over
the ``Nt`` BS antennas and the ``F`` subcarriers of the resource grid, with
subcarriers ordered as in Sionna (centred: index ``F//2`` is DC). The
angular-delay image is the unitary DFT over antennas (angle) and the unitary
IDFT over subcarriers (delay), truncated to the first ``num_taps`` delay
taps, as in CsiNet/CRNet/TransNet (COST2100 convention). Because the
subcarrier axis is first ``ifftshift``-ed to put DC at index 0, delay tap
``l`` is the delay ``l / (F * subcarrier_spacing)`` and the transforms are
exact inverses of each other on channels whose delay spread fits in
``num_taps`` taps.
"""

import tensorflow as tf
from sionna.phy import config, dtypes
from sionna.phy.signal import fft, ifft

from lasco_sionna.utils.validation import check_channel_tensor, check_positive


def _cdtype(precision):
    return config.tf_cdtype if precision is None else \
        dtypes[precision]["tf"]["cdtype"]


def spatial_frequency_to_angular_delay(h, num_taps=32, precision=None):
    # pylint: disable=line-too-long
    r"""Angular-delay image of spatial-frequency channels, truncated in delay

    Input
    -----
    h : [..., num_ant, fft_size], `tf.complex`
        Channels over antennas and (centred) subcarriers

    num_taps : `int`, (default 32)
        Delay taps kept (``<= fft_size``)

    precision : `None` (default) | "single" | "double"
        Precision of the computation and output

    Output
    ------
    a : [..., num_ant, num_taps], `tf.complex`
        Angular-delay image (unitary transforms: without truncation
        ``||a|| = ||h||``)
    """
    h = tf.convert_to_tensor(h)
    h = check_channel_tensor("h", h, last_dims=(None, None))
    fft_size = h.shape[-1]
    check_positive("num_taps", num_taps, integer=True)
    if fft_size is not None and num_taps > fft_size:
        raise ValueError(f"`num_taps`={num_taps} must be <= fft_size="
                         f"{fft_size}")
    h = tf.cast(h, _cdtype(precision))
    # DC to index 0: [..., num_ant, fft_size]
    h = tf.signal.ifftshift(h, axes=-1)
    # Delay domain: [..., num_ant, fft_size]
    a = ifft(h, axis=-1, precision=precision)
    # Angular domain: [..., num_ant, fft_size]
    a = fft(a, axis=-2, precision=precision)
    # [..., num_ant, num_taps]
    return a[..., :num_taps]


def truncation_nmse(h, num_taps=32, precision=None):
    # pylint: disable=line-too-long
    r"""Per-channel NMSE of keeping only the first ``num_taps`` delay taps (the truncation floor)

    The energy of the delay taps beyond ``num_taps`` over the total energy,
    :math:`\|\mathbf{H} - \mathbf{H}_{\text{trunc}}\|_F^2 / \|\mathbf{H}\|_F^2`
    with :math:`\mathbf{H}_{\text{trunc}}` the channel rebuilt from its
    truncated angular-delay image: the spatial-frequency NMSE of a decoder
    that recovers the truncated image perfectly. Average the linear values
    over channels, then take ``10 log10``, as for :func:`~lasco_sionna.csi.nmse`.

    Input
    -----
    h : [..., num_ant, fft_size], `tf.complex`
        Channels over antennas and (centred) subcarriers

    num_taps : `int`, (default 32)
        Delay taps kept

    precision : `None` (default) | "single" | "double"
        Precision of the computation

    Output
    ------
    floor : [...], `tf.float`
        Linear NMSE per channel, in [0, 1] (0 for an all-zero channel)
    """
    h = tf.convert_to_tensor(h)
    h = check_channel_tensor("h", h, last_dims=(None, None))
    check_positive("num_taps", num_taps, integer=True)
    if h.shape[-1] is not None and num_taps > h.shape[-1]:
        raise ValueError(f"`num_taps`={num_taps} must be <= fft_size="
                         f"{h.shape[-1]}")
    # Untruncated (unitary) angular-delay image: [..., num_ant, fft_size]
    a = spatial_frequency_to_angular_delay(h, h.shape[-1],
                                           precision=precision)
    energy = tf.abs(a) ** 2
    tail = tf.reduce_sum(energy[..., num_taps:], axis=[-2, -1])
    return tf.math.divide_no_nan(tail, tf.reduce_sum(energy, axis=[-2, -1]))


def angular_delay_to_spatial_frequency(a, fft_size, precision=None):
    # pylint: disable=line-too-long
    r"""Spatial-frequency channels from a (truncated) angular-delay image

    Inverse of :func:`spatial_frequency_to_angular_delay`: the truncated
    taps are zero-padded to ``fft_size``.

    Input
    -----
    a : [..., num_ant, num_taps], `tf.complex`
        Angular-delay image

    fft_size : `int`
        Number of subcarriers (``>= num_taps``)

    precision : `None` (default) | "single" | "double"
        Precision of the computation and output

    Output
    ------
    h : [..., num_ant, fft_size], `tf.complex`
        Channels over antennas and centred subcarriers
    """
    a = tf.convert_to_tensor(a)
    a = check_channel_tensor("a", a, last_dims=(None, None))
    check_positive("fft_size", fft_size, integer=True)
    num_taps = a.shape[-1]
    if num_taps is not None and num_taps > fft_size:
        raise ValueError(f"`fft_size`={fft_size} must be >= num_taps="
                         f"{num_taps}")
    a = tf.cast(a, _cdtype(precision))
    # Spatial domain: [..., num_ant, num_taps]
    h = ifft(a, axis=-2, precision=precision)
    pad = [[0, 0]] * (len(a.shape) - 1) + [[0, fft_size - num_taps]]
    # [..., num_ant, fft_size]
    h = tf.pad(h, pad)
    # Frequency domain, DC at index 0: [..., num_ant, fft_size]
    h = fft(h, axis=-1, precision=precision)
    # Centred subcarriers: [..., num_ant, fft_size]
    return tf.signal.fftshift(h, axes=-1)


def complex_to_real_image(x):
    r"""Stack real and imaginary parts as channels (CsiNet's ``2 x Nt x taps``)

    Input
    -----
    x : [..., m, n], `tf.complex`
        Complex image

    Output
    ------
    y : [..., 2, m, n], `tf.float`
        ``y[..., 0, :, :] = Re(x)``, ``y[..., 1, :, :] = Im(x)``
    """
    x = tf.convert_to_tensor(x)
    x = check_channel_tensor("x", x, last_dims=(None, None))
    # [..., 2, m, n]
    return tf.stack([tf.math.real(x), tf.math.imag(x)], axis=-3)


def real_image_to_complex(y):
    r"""Inverse of :func:`complex_to_real_image`

    Input
    -----
    y : [..., 2, m, n], `tf.float`
        Real image

    Output
    ------
    x : [..., m, n], `tf.complex`
        Complex image
    """
    y = tf.convert_to_tensor(y)
    if y.dtype.is_complex or len(y.shape) < 3 or y.shape[-3] != 2:
        raise ValueError("`y` must be a real tensor of shape [..., 2, m, n], "
                         f"got {y.dtype.name} {tuple(y.shape)}")
    return tf.complex(y[..., 0, :, :], y[..., 1, :, :])


def normalize_csi(x, axes=(-2, -1)):
    r"""Scale every CSI image to unit Frobenius norm

    Input
    -----
    x : [..., m, n], `tf.complex` | `tf.float`
        CSI images

    axes : `tuple` of `int`, (default (-2, -1))
        Axes spanning one image (``(-3, -2, -1)`` for real images)

    Output
    ------
    x_n : same shape and dtype as ``x``
        ``x / ||x||`` (zero images stay zero)

    norm : [...], `tf.float`
        Norms ``||x||``; ``x = x_n * norm`` restores the input
    """
    x = tf.convert_to_tensor(x)
    norm = tf.sqrt(tf.reduce_sum(tf.abs(x) ** 2, axis=list(axes)))
    scale = tf.math.divide_no_nan(tf.ones_like(norm), norm)
    for ax in sorted(axes):
        scale = tf.expand_dims(scale, ax if ax >= 0 else len(x.shape) + ax)
    return x * tf.cast(scale, x.dtype), norm


def csi_image(h, num_taps=32, precision=None):
    # pylint: disable=line-too-long
    r"""Model input: normalised real angular-delay image of spatial-frequency CSI

    Chains :func:`spatial_frequency_to_angular_delay`,
    :func:`normalize_csi` and :func:`complex_to_real_image`.

    Input
    -----
    h : [..., num_ant, fft_size], `tf.complex`
        Channels, complex64 or complex128: cast to ``precision`` (float32
        outputs by default; ``precision="double"`` keeps float64)

    num_taps : `int`, (default 32)
        Delay taps kept

    precision : `None` (default) | "single" | "double"
        Precision of the computation

    Output
    ------
    x : [..., 2, num_ant, num_taps], `tf.float`
        Real image with unit Frobenius norm

    norm : [...], `tf.float`
        Norm of the truncated complex image
    """
    a = spatial_frequency_to_angular_delay(h, num_taps, precision=precision)
    a, norm = normalize_csi(a)
    return complex_to_real_image(a), norm


def csi_from_image(x, norm, fft_size, precision=None):
    # pylint: disable=line-too-long
    r"""Inverse of :func:`csi_image`

    Input
    -----
    x : [..., 2, num_ant, num_taps], `tf.float`
        Real image

    norm : [...], `tf.float`
        Norm to restore

    fft_size : `int`
        Subcarriers

    precision : `None` (default) | "single" | "double"
        Precision of the computation

    Output
    ------
    h : [..., num_ant, fft_size], `tf.complex`
        Channels
    """
    a = real_image_to_complex(x)
    a = a * tf.cast(tf.convert_to_tensor(norm)[..., tf.newaxis, tf.newaxis],
                    a.dtype)
    return angular_delay_to_spatial_frequency(a, fft_size,
                                              precision=precision)
