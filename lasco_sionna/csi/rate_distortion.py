#
# SPDX-License-Identifier: Apache-2.0
#
"""Gaussian rate-distortion reference of CSI: reverse water-filling on the covariance eigenvalues"""

import numpy as np

from lasco_sionna.csi.image_stats import image_second_moment
from lasco_sionna.utils.validation import check_positive


def reverse_water_filling(eigenvalues, bits):
    r"""Distortion of an ideal transform coder of a Gaussian vector at ``bits`` bits

    For independent Gaussian components with variances :math:`\lambda_i`,
    the rate-distortion function is reached by reverse water-filling: find
    the water level :math:`\theta` such that

    .. math::
        R = \sum_{i:\lambda_i > \theta} \tfrac12\log_2\frac{\lambda_i}{\theta}

    equals ``bits``; the distortion is
    :math:`D = \sum_i \min(\theta, \lambda_i)`.

    Input
    -----
    eigenvalues : [n], `float`
        Component variances (eigenvalues of the covariance), >= 0

    bits : `float`
        Rate [bit per vector], >= 0

    Output
    ------
    distortion : `float`
        Minimum mean squared error per vector
    """
    lam = np.sort(np.asarray(eigenvalues, np.float64))[::-1]
    if lam.ndim != 1 or np.any(lam < 0) or not np.all(np.isfinite(lam)):
        raise ValueError("`eigenvalues` must be a 1-D array of finite "
                         "values >= 0")
    check_positive("bits", bits, allow_zero=True)
    lam = lam[lam > 0]
    if bits == 0 or len(lam) == 0:
        return float(np.sum(lam))

    def rate(theta):
        return float(np.sum(0.5 * np.log2(lam[lam > theta] / theta)))

    lo, hi = lam[-1] * 1e-30, lam[0]
    for _ in range(200):
        mid = np.sqrt(lo * hi)
        if rate(mid) > bits:
            lo = mid
        else:
            hi = mid
    theta = np.sqrt(lo * hi)
    return float(np.sum(np.minimum(theta, lam)))


def with_truncation_floor(nmse_db, truncation_floor):
    r"""An image-domain NMSE taken to the spatial-frequency domain

    A decoder whose unit-norm truncated image has NMSE ``d`` (linear), on
    channels whose delay taps beyond the image hold a mean share ``F`` of
    the energy (:func:`~lasco_sionna.csi.truncation_nmse`), reaches
    ``d (1 - F) + F`` over the subcarriers (exact when the image error does
    not depend on the channel's tail energy).

    Input
    -----
    nmse_db : `float`
        Image-domain NMSE [dB]

    truncation_floor : `float` in [0, 1)
        Mean linear truncation NMSE ``F``

    Output
    ------
    nmse_db : `float`
        Spatial-frequency NMSE [dB]
    """
    if not 0.0 <= truncation_floor < 1.0:
        raise ValueError(f"`truncation_floor` must be in [0, 1), got "
                         f"{truncation_floor!r}")
    d = 10.0 ** (nmse_db / 10.0)
    return float(10 * np.log10(d * (1.0 - truncation_floor)
                               + truncation_floor))


def rate_distortion_nmse_db(images, bits, truncation_floor=0.0):
    r"""NMSE an ideal Gaussian transform coder would reach at ``bits`` bits

    The sample covariance of the vectorised real CSI images gives the
    eigenvalues; :func:`reverse_water_filling` gives the distortion, which
    is normalised by the mean energy. For unit-norm images this is the mean
    per-image NMSE *in the image domain* (the truncated angular-delay
    image): compare it with decoders' NMSE on the same images. With
    ``truncation_floor`` ``F`` the figure is taken to the spatial-frequency
    domain (:func:`with_truncation_floor`), to compare with
    spatial-frequency NMSE.

    Input
    -----
    images : [num, ...], `float`
        Real CSI images (e.g. ``[num, 2, num_ant, num_taps]``)

    bits : `float`
        Payload [bit per image] (the image bits: side information such as
        the norm is not part of it)

    truncation_floor : `float` in [0, 1), (default 0)
        Mean linear truncation NMSE; 0 gives the image-domain figure

    Output
    ------
    nmse_db : `float`
        Reference NMSE [dB]
    """
    if len(images) < 2:
        raise ValueError("need at least 2 images for a covariance")
    cov = image_second_moment(images)
    eig = np.clip(np.linalg.eigvalsh(cov), 0, None)
    d = reverse_water_filling(eig, bits) / np.trace(cov)
    return with_truncation_floor(float(10 * np.log10(d)), truncation_floor)
