#
# SPDX-License-Identifier: Apache-2.0
#
"""The image front end of the learned CSI paths: channels -> images x -> coarse inversions x0 (NumPy)"""

import numpy as np

from lasco_sionna.csi.representation import csi_image
from lasco_sionna.utils.validation import check_positive


def _batches(n, batch_size):
    """Slices of ``range(n)``: one, or of ``batch_size`` each"""
    if batch_size is None:
        return [slice(0, n)]
    check_positive("batch_size", batch_size, integer=True)
    return [slice(i, i + batch_size) for i in range(0, n, batch_size)]


def channel_images(h, num_taps, batch_size=None):
    # pylint: disable=line-too-long
    r"""Normalised angular-delay images of channels, as NumPy arrays

    :func:`~lasco_sionna.csi.csi_image` on ``h``, in batches of
    ``batch_size`` channels (all at once by default).

    Input
    -----
    h : [n, num_ant, fft_size], array-like of complex
        Channels (spatial-frequency domain)

    num_taps : `int`
        Delay taps kept

    batch_size : `None` (default) | `int`
        Channels per call of ``csi_image``

    Output
    ------
    x : [n, 2, num_ant, num_taps], `np.float`
        Unit-norm images (Sionna's precision)

    norm : [n], `np.float`
        Their norms
    """
    parts = [csi_image(h[s], num_taps) for s in _batches(len(h), batch_size)]
    x = np.concatenate([p[0].numpy() for p in parts])
    norm = np.concatenate([p[1].numpy() for p in parts])
    return x, norm


def apply_batched(fn, x, batch_size=None):
    # pylint: disable=line-too-long
    r"""``fn(x)`` in batches, as a NumPy array

    Input
    -----
    fn : `callable`
        E.g. a UE encoder (images -> coarse inversions) or a decoder
        (coarse inversions -> images)

    x : [n, ...], array-like
        Inputs

    batch_size : `None` (default) | `int`
        Inputs per call (all at once by default)

    Output
    ------
    y : [n, ...], `np.ndarray`
        ``fn(x)``
    """
    return np.concatenate([np.asarray(fn(x[s]))
                           for s in _batches(len(x), batch_size)])


def image_front_end(encoder, h, batch_size=None):
    # pylint: disable=line-too-long
    r"""Channels -> unit-norm images ``x``, coarse inversions ``x0``, norms

    Input
    -----
    encoder : :class:`~lasco_sionna.models.LinearProjectionEncoder`
        UE encoder (its ``num_taps`` sets the image)

    h : [n, num_ant, fft_size], array-like of complex
        Channels

    batch_size : `None` (default) | `int`
        Channels per encoder call (all at once by default)

    Output
    ------
    x : [n, 2, num_ant, num_taps], `np.float`
        Unit-norm images (Sionna's precision)

    x0 : [n, 2, num_ant, num_taps], `np.float32`
        Coarse inversions of their reports

    norm : [n], `np.float`
        Image norms
    """
    x, norm = channel_images(h, encoder.num_taps)
    return x, apply_batched(encoder, x, batch_size), norm
