#
# SPDX-License-Identifier: Apache-2.0
#
"""Statistics of batches of real CSI images: second moment and image-domain error (NumPy)"""

import numpy as np


def image_second_moment(images):
    # pylint: disable=line-too-long
    r"""Second moment of flattened images, ``E[v v^T]`` (CSI is zero-mean)

    Input
    -----
    images : [n, ...], array-like of floats
        ``n >= 2`` images (e.g. ``[n, 2, num_ant, num_taps]``,
        :func:`~lasco_sionna.csi.csi_image`)

    Output
    ------
    moment : [d, d], `np.float64`
        ``v^T v / n`` with ``v`` the ``[n, d]`` flattened images in double
        precision
    """
    images = np.asarray(images)
    if images.ndim < 2 or len(images) < 2:
        raise ValueError("need at least 2 images for a second moment, got "
                         f"shape {images.shape}")
    # [n, d]
    v = images.reshape(len(images), -1).astype(np.float64)
    return v.T @ v / len(v)


def image_mse(y, x):
    r"""Mean squared error of image reconstructions: ``mean_n ||y_n - x_n||^2``

    Input
    -----
    y, x : [n, 2, num_ant, num_taps], array-like of floats
        Reconstructed and true images

    Output
    ------
    mse : `float`
        Squared error per image, averaged over the images
    """
    return float(_mean_squared_error(y, x))


def _mean_squared_error(y, x):
    """``mean_n ||y_n - x_n||^2`` in the images' dtype (a NumPy scalar)"""
    y, x = np.asarray(y), np.asarray(x)
    if y.shape != x.shape or y.ndim != 4:
        raise ValueError("`y` and `x` must both have shape [n, 2, num_ant, "
                         f"num_taps], got {y.shape} and {x.shape}")
    return np.mean(np.sum((y - x) ** 2, axis=(1, 2, 3)))


def image_nmse_db(y, x):
    r"""Image-domain NMSE [dB] of reconstructions of *unit-norm* images

    ``10 log10(mean_n ||y_n - x_n||^2)``: with unit-norm images
    (:func:`~lasco_sionna.csi.csi_image`) the squared error is the NMSE.

    Input
    -----
    y, x : [n, 2, num_ant, num_taps], array-like of floats
        Reconstructed and true (unit-norm) images

    Output
    ------
    nmse_db : `float`
        NMSE [dB]
    """
    # (the logarithm in the images' dtype)
    return float(10 * np.log10(_mean_squared_error(y, x)))
