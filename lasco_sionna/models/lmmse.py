#
# SPDX-License-Identifier: Apache-2.0
#
"""Linear MMSE decoding of the linear-projection feedback from a channel covariance"""

import keras
import numpy as np
import tensorflow as tf

from lasco_sionna.csi.image_stats import image_second_moment
from lasco_sionna.models.encoder import LinearProjectionEncoder
from lasco_sionna.utils.validation import check_instance


def lmmse_gain(encoder, images, shrinkage=0.0, prior=None,
               sample_covariance=None):
    r"""LMMSE gain of the coarse measurements from a sample covariance

    With ``y = A x0 = A x + e`` (the quantised measurements of the
    :class:`~lasco_sionna.models.LinearProjectionEncoder`, ``A x0 = A A^T
    s / sqrt(D)``), the linear MMSE estimate of the image is ``x_hat = G y``
    with ``G = C A^T (A C A^T + sigma^2 I)^{-1}``. ``C`` is the second-moment
    matrix of ``images``, optionally shrunk towards ``prior`` (or towards
    its own scaled identity), and ``sigma^2`` the quantisation-error
    variance measured on ``images``.

    Input
    -----
    encoder : :class:`~lasco_sionna.models.LinearProjectionEncoder`
        The UE encoder

    images : [num_images, 2, num_ant, num_taps], `np.ndarray`
        Normalised CSI images the covariance is estimated from

    shrinkage : `float`, (default 0)
        Weight in ``[0, 1]`` of the shrinkage target:
        ``C = (1 - w) C_hat + w C_prior``

    prior : [D, D] `np.ndarray` | `None`, (default `None`)
        Shrinkage target; `None` uses ``trace(C_hat)/D I``

    sample_covariance : [D, D] `np.ndarray` | `None`, (default `None`)
        ``C_hat`` of ``images`` if already computed (e.g. the ``covariance``
        output of a call with ``shrinkage=0``), to try several shrinkage
        weights without recomputing it

    Output
    ------
    gain : [D, num_measurements], `np.float32`
        ``G``

    covariance : [D, D], `np.float64`
        The (shrunk) covariance ``C``
    """
    check_instance("encoder", encoder, LinearProjectionEncoder)
    images = np.asarray(images)
    shape = (2, encoder.num_ant, encoder.num_taps)
    if images.ndim != 4 or images.shape[1:] != shape or len(images) < 2:
        raise ValueError(f"`images` must have shape [n >= 2, {shape[0]}, "
                         f"{shape[1]}, {shape[2]}], got {images.shape}")
    if not 0.0 <= shrinkage <= 1.0:
        raise ValueError(f"`shrinkage` must be in [0, 1], got {shrinkage!r}")
    a = encoder.projection.astype(np.float64)
    dim = a.shape[1]
    if sample_covariance is None:
        cov = image_second_moment(images)
    else:
        cov = np.asarray(sample_covariance, np.float64)
        if cov.shape != (dim, dim):
            raise ValueError(f"`sample_covariance` must have shape [{dim}, "
                             f"{dim}], got {cov.shape}")
    if shrinkage:
        target = np.trace(cov) / dim * np.eye(dim) if prior is None \
            else np.asarray(prior, np.float64)
        if target.shape != (dim, dim):
            raise ValueError(f"`prior` must have shape [{dim}, {dim}], got "
                             f"{target.shape}")
        cov = (1.0 - shrinkage) * cov + shrinkage * target
    # Quantisation error of y = A x0 against A x: [num_images, M]
    s = encoder.measure(images)
    sigma2 = float(np.mean((encoder.quantizer(s) - s).numpy() ** 2)) / dim
    cat = cov @ a.T
    gain = np.linalg.solve(a @ cat + sigma2 * np.eye(a.shape[0]), cat.T).T
    return gain.astype(np.float32), cov


@keras.saving.register_keras_serializable(package="lasco_sionna")
class LMMSEDecoder(keras.layers.Layer):
    # pylint: disable=line-too-long
    r"""Linear MMSE CSI decoder for the linear-projection feedback

    ``x_hat = G A x0``: ``A`` is the encoder's projection and ``G`` the
    gain of :func:`lmmse_gain` (both non-trainable). With the covariance of
    the source environments this is a training-free baseline; with a
    target covariance it is the adaptation of a linear decoder.

    Parameters
    ----------
    encoder_config : `dict`
        ``get_config()`` of the :class:`~lasco_sionna.models.LinearProjectionEncoder`

    Input
    -----
    x0 : [batch, 2, num_ant, num_taps], `tf.float32`
        Coarse inversions

    Output
    ------
    x_hat : [batch, 2, num_ant, num_taps], `tf.float32`
        LMMSE reconstructions (zero until :meth:`set_gain`)
    """

    def __init__(self, encoder_config, **kwargs):
        super().__init__(**kwargs)
        self.encoder_config = dict(encoder_config)
        enc = LinearProjectionEncoder.from_config(self.encoder_config)
        self.num_ant, self.num_taps = enc.num_ant, enc.num_taps
        self._dim, self._m = enc.dim, enc.num_measurements
        self._a_init = enc.projection

    def build(self, input_shape):
        self.a = self.add_weight(
            name="projection", shape=(self._m, self._dim), trainable=False,
            initializer=keras.initializers.Constant(self._a_init))
        self.gain = self.add_weight(name="gain", shape=(self._dim, self._m),
                                    trainable=False, initializer="zeros")
        super().build(input_shape)

    def set_gain(self, gain):
        """Set ``G`` ([D, num_measurements], e.g. from :func:`lmmse_gain`)"""
        gain = np.asarray(gain, np.float32)
        if gain.shape != (self._dim, self._m):
            raise ValueError(f"`gain` must have shape [{self._dim}, "
                             f"{self._m}], got {gain.shape}")
        if not self.built:
            self.build((None, 2, self.num_ant, self.num_taps))
        self.gain.assign(gain)

    def call(self, x0):
        # [batch, D]
        v = tf.reshape(tf.cast(x0, tf.float32), [-1, self._dim])
        y = tf.matmul(v, self.a, transpose_b=True)
        # [batch, 2, num_ant, num_taps]
        return tf.reshape(tf.matmul(y, self.gain, transpose_b=True),
                          [-1, 2, self.num_ant, self.num_taps])

    def get_config(self):
        return {**super().get_config(), "encoder_config": self.encoder_config}
