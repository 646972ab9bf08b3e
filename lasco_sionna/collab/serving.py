#
# SPDX-License-Identifier: Apache-2.0
#
"""Multi-environment serving: one LAM, a table of per-environment SAM adapters"""

import types

import keras
import numpy as np
import tensorflow as tf

from lasco_sionna.collab.combiner import CollaborationCombiner


@keras.saving.register_keras_serializable(package="lasco_sionna")
class MultiEnvironmentDecoder(keras.layers.Layer):
    # pylint: disable=line-too-long
    r"""Decode a batch of users from several environments with one LAM pass

    Every environment has an adapter ``(proxy SAM, combiner)``; the
    reference SAM is shared (trained once on source data). The LAM runs
    once on the whole batch; each user's reconstruction is then corrected
    with its environment's adapter,
    ``a_e f_LAM(x) + b_e g_P,e(x) - c_e g_R(x)``. Users of an environment
    without adapter get the LAM's output. The LAM may be any callable; the
    corrections run as one compiled graph when the SAMs are Keras layers.
    When every part is a Keras layer, the decoder saves and loads as
    ``.keras`` (environments are then kept as JSON values: `str` or `int`).
    Computations are in single precision (`tf.float32`).

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

    def __init__(self, lam, reference_sam, adapters, **kwargs):
        super().__init__(**kwargs)
        # Environments are labels, not tensors: the inputs stay as given
        self._convert_input_args = False
        self._allow_non_tensor_positional_args = True
        if not callable(lam) or not callable(reference_sam):
            raise TypeError("`lam` and `reference_sam` must be callable")
        for env, pair in adapters.items():
            if len(pair) != 2 or not isinstance(pair[1],
                                                CollaborationCombiner):
                raise TypeError(f"adapter of {env!r} must be (proxy SAM, "
                                "CollaborationCombiner)")
        self.lam, self.reference_sam = lam, reference_sam
        # Read-only: the index below and the compiled graph depend on it;
        # the lists let Keras track the adapters' weights
        self.adapters = types.MappingProxyType(dict(adapters))
        self._proxies = [p for p, _ in self.adapters.values()]
        self._combiners = [c for _, c in self.adapters.values()]
        self._index = {env: i for i, env in enumerate(self.adapters)}
        # The corrections after the (possibly opaque) LAM pass run as one
        # graph when the SAMs are Keras layers
        keras_parts = all(isinstance(f, keras.layers.Layer) for f in
                          [reference_sam] + self._proxies)
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

    def build(self, input_shape):
        # No weights of its own: the parts build on their first call
        super().build(input_shape)

    def call(self, x0, environments):
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

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        parts = [("lam", self.lam), ("reference_sam", self.reference_sam)] \
            + [(f"proxy of {e!r}", p) for e, (p, _) in self.adapters.items()]
        opaque = [n for n, f in parts if not isinstance(f, keras.layers.Layer)]
        if opaque:
            raise TypeError("cannot serialise a MultiEnvironmentDecoder whose "
                            + ", ".join(opaque) + " not a Keras layer "
                            "(an opaque callable)")
        ser = keras.saving.serialize_keras_object
        return {**super().get_config(), "lam": ser(self.lam),
                "reference_sam": ser(self.reference_sam),
                # [environment, proxy, combiner] (keys may be non-strings)
                "adapters": [[e, ser(p), ser(c)]
                             for e, (p, c) in self.adapters.items()]}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        de = keras.saving.deserialize_keras_object
        config["lam"] = de(config["lam"])
        config["reference_sam"] = de(config["reference_sam"])
        config["adapters"] = {e: (de(p), de(c))
                              for e, p, c in config["adapters"]}
        return cls(**config)
