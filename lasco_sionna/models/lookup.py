#
# SPDX-License-Identifier: Apache-2.0
#
"""Nearest-neighbour lookup decoder: the training-free baseline every adaptation must beat"""

import keras
import numpy as np
import tensorflow as tf

from lasco_sionna.utils.validation import check_finite, check_positive


@keras.saving.register_keras_serializable(package="lasco_sionna")
class LookupDecoder(keras.layers.Layer):
    # pylint: disable=line-too-long
    r"""Decode a CSI report as the image of the closest stored training report

    The table holds ``num_entries`` target training pairs: the report as
    the BS sees it (key: the coarse inversion ``x0`` of the feedback) and
    the true image (value). A query returns the mean of the values of its
    ``num_neighbors`` nearest keys (Euclidean distance; ties go to the
    earlier entry). Nothing is trained: a method that does not beat this
    lookup on held-out data memorises the target's reports rather than
    learning the environment (with repeated positions in the data, the
    lookup wins by recalling the training image of the same link).

    The keys are coarse inversions ``x0``, the input of every other decoder
    (LAM, SAMs, LMMSE), so the lookup drops into any CSI path unchanged.
    For the :class:`~lasco_sionna.models.LinearProjectionEncoder` this *is*
    a lookup on the payload: ``x0 = A^T s_q / sqrt(D)`` with orthonormal
    rows of ``A``, so ``||x0 - x0'|| = ||s_q - s_q'|| / sqrt(D)`` and the
    nearest key is the nearest dequantised measurement vector (the report's
    bits). Distances are one batched matrix product,
    ``||q||^2 - 2 q k^T + ||k||^2`` ([batch, num_entries]).

    The table is the layer's (non-trainable) weights, set by
    :meth:`set_table`; it is target data, so its ``2 D num_entries``
    entries (``D = 2 num_ant num_taps``) are adapted state
    (:attr:`num_adapted`), not free.

    Parameters
    ----------
    num_entries : `int`
        Stored training reports (> 0)

    num_ant : `int`, (default 32)
        Angle bins of the image

    num_taps : `int`, (default 32)
        Delay taps of the image

    num_neighbors : `int`, (default 1)
        Values averaged per query (``<= num_entries``)

    Input
    -----
    x0 : [batch, 2, num_ant, num_taps], `tf.float32`
        Coarse inversions of the reports (finite)

    Output
    ------
    x_hat : [batch, 2, num_ant, num_taps], `tf.float32`
        Stored image of the nearest report (mean of the ``num_neighbors``
        nearest)
    """

    def __init__(self, num_entries, num_ant=32, num_taps=32, num_neighbors=1,
                 **kwargs):
        super().__init__(**kwargs)
        for name, value in (("num_entries", num_entries),
                            ("num_ant", num_ant), ("num_taps", num_taps),
                            ("num_neighbors", num_neighbors)):
            check_positive(name, value, integer=True)
        if num_neighbors > num_entries:
            raise ValueError(f"`num_neighbors`={num_neighbors} must be <= "
                             f"`num_entries`={num_entries}")
        self.num_entries, self.num_neighbors = int(num_entries), \
            int(num_neighbors)
        self.num_ant, self.num_taps = int(num_ant), int(num_taps)
        self._dim = 2 * self.num_ant * self.num_taps
        self._filled = False

    @classmethod
    def from_table(cls, keys, values, num_neighbors=1, **kwargs):
        """A decoder holding ``keys`` ([n, 2, num_ant, num_taps] coarse
        inversions) and ``values`` (their true images, same shape)"""
        shape = np.shape(keys)
        if len(shape) != 4 or shape[1] != 2:
            raise ValueError("`keys` must have shape [num_entries, 2, "
                             f"num_ant, num_taps], got {shape}")
        if shape[0] == 0:
            raise ValueError("`keys` is empty: the lookup table needs at "
                             "least one entry")
        dec = cls(shape[0], shape[2], shape[3], num_neighbors, **kwargs)
        dec.set_table(keys, values)
        return dec

    @property
    def num_adapted(self):
        """`int` : Stored target numbers (keys and values), adapted state"""
        return 2 * self._dim * self.num_entries

    def build(self, input_shape):
        self.keys = self.add_weight(name="keys",
                                    shape=(self.num_entries, self._dim),
                                    trainable=False, initializer="zeros")
        self.values = self.add_weight(name="values",
                                      shape=(self.num_entries, self._dim),
                                      trainable=False, initializer="zeros")
        super().build(input_shape)

    def set_table(self, keys, values):
        """Store ``keys`` (coarse inversions) and ``values`` (true images),
        both [num_entries, 2, num_ant, num_taps], finite"""
        want = (self.num_entries, 2, self.num_ant, self.num_taps)
        for name, a in (("keys", keys), ("values", values)):
            if np.shape(a) != want:
                raise ValueError(f"`{name}` must have shape {list(want)}, "
                                 f"got {list(np.shape(a))}")
            check_finite(name, a)
        if not self.built:
            self.build((None, 2, self.num_ant, self.num_taps))
        self.keys.assign(np.reshape(keys, [self.num_entries, self._dim])
                         .astype(np.float32))
        self.values.assign(np.reshape(values, [self.num_entries, self._dim])
                           .astype(np.float32))
        self._filled = True

    def load_own_variables(self, store):
        super().load_own_variables(store)
        self._filled = True

    def call(self, x0):
        if not self._filled:
            raise ValueError("the lookup table is empty: call `set_table` "
                             "(or build with `LookupDecoder.from_table`)")
        x0 = tf.convert_to_tensor(x0, tf.float32)
        want = (2, self.num_ant, self.num_taps)
        if len(x0.shape) != 4 or tuple(x0.shape[1:]) != want:
            raise ValueError(f"`x0` must have shape [batch, {want[0]}, "
                             f"{want[1]}, {want[2]}], got {tuple(x0.shape)}")
        if tf.executing_eagerly():
            check_finite("x0", x0.numpy())
        else:
            x0 = tf.debugging.assert_all_finite(x0, "`x0` contains NaN/Inf")
        # [batch, D]
        q = tf.reshape(x0, [-1, self._dim])
        # Squared distances up to the query's own norm: [batch, num_entries]
        dist = tf.reduce_sum(self.keys ** 2, axis=-1)[tf.newaxis] \
            - 2.0 * tf.matmul(q, self.keys, transpose_b=True)
        # Nearest first; top_k keeps the lower index among equal values
        _, idx = tf.math.top_k(-dist, k=self.num_neighbors)
        # [batch, num_neighbors, D] -> [batch, D]
        x_hat = tf.reduce_mean(tf.gather(self.values, idx), axis=1)
        return tf.reshape(x_hat, [-1, 2, self.num_ant, self.num_taps])

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "num_entries": self.num_entries,
                "num_ant": self.num_ant, "num_taps": self.num_taps,
                "num_neighbors": self.num_neighbors}
