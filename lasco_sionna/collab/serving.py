#
# SPDX-License-Identifier: Apache-2.0
#
"""Multi-environment serving: one LAM, a table of per-environment SAM adapters"""

import types

import keras
import numpy as np
import tensorflow as tf

from lasco_sionna.collab.combiner import CollaborationCombiner


class MultiEnvironmentDecoder:
    # pylint: disable=line-too-long
    r"""Decode a batch of users from several environments with one LAM pass

    Every environment has an adapter ``(proxy SAM, combiner)``; the
    reference SAM is shared (trained once on source data). The LAM runs
    once on the whole batch; each user's reconstruction is then corrected
    with its environment's adapter,
    ``a_e f_LAM(x) + b_e g_P,e(x) - c_e g_R(x)``. Users of an environment
    without adapter get the LAM's output. The LAM may be any callable; the
    corrections run as one compiled graph when the SAMs are Keras layers.

    Parameters
    ----------
    lam : `callable`
        ``[batch, 2, num_ant, num_taps] -> [batch, 2, num_ant, num_taps]``

    reference_sam : `callable`
        Shared reference SAM, ``[batch, 2, num_ant, num_taps] -> [batch, 2,
        num_ant, num_taps]``

    adapters : `dict`
        ``{environment: (proxy_sam, combiner)}`` (e.g. from
        :class:`~lasco_sionna.collab.AdaptationResult`); kept read-only

    Input
    -----
    x0 : [batch, 2, num_ant, num_taps], `tf.float32`
        Coarse inversions of the users' feedback

    environments : [batch], `str`
        Environment of each user

    Output
    ------
    x_hat : [batch, 2, num_ant, num_taps], `tf.float32`
        Reconstructions
    """

    def __init__(self, lam, reference_sam, adapters):
        if not callable(lam) or not callable(reference_sam):
            raise TypeError("`lam` and `reference_sam` must be callable")
        for env, pair in adapters.items():
            if len(pair) != 2 or not isinstance(pair[1],
                                                CollaborationCombiner):
                raise TypeError(f"adapter of {env!r} must be (proxy SAM, "
                                "CollaborationCombiner)")
        self.lam, self.reference_sam = lam, reference_sam
        # Read-only: the index below and the compiled graph depend on it
        self.adapters = types.MappingProxyType(dict(adapters))
        self._index = {env: i for i, env in enumerate(self.adapters)}
        # The corrections after the (possibly opaque) LAM pass run as one
        # graph when the SAMs are Keras layers
        keras_parts = all(isinstance(f, keras.layers.Layer) for f in
                          [reference_sam] + [p for p, _ in
                                             self.adapters.values()])
        self._correct = tf.function(self._correct_eager,
                                    reduce_retracing=True) \
            if keras_parts else self._correct_eager

    def _correct_eager(self, x0, y, ids):
        out = y
        for i, (proxy, combiner) in enumerate(self.adapters.values()):
            # [num_users_of_env]
            idx = tf.reshape(tf.where(tf.equal(ids, i)), [-1])
            if tf.executing_eagerly() and int(tf.size(idx)) == 0:
                continue        # opaque SAMs need not accept empty batches
            x_e = tf.gather(x0, idx)
            y_e = combiner([tf.gather(y, idx), proxy(x_e),
                            self.reference_sam(x_e)])
            out = tf.tensor_scatter_nd_update(out, idx[:, tf.newaxis], y_e)
        return out

    def __call__(self, x0, environments):
        x0 = tf.convert_to_tensor(x0, tf.float32)
        environments = np.asarray(environments)
        if environments.shape != (x0.shape[0],):
            raise ValueError(f"`environments` must have shape [{x0.shape[0]}]"
                             f", got {environments.shape}")
        y = tf.convert_to_tensor(self.lam(x0), tf.float32)
        # Adapter index per user, -1 = no adapter (the LAM's output)
        ids = tf.constant([self._index.get(e, -1) for e in environments],
                          tf.int32)
        return self._correct(x0, y, ids)
