#
# SPDX-License-Identifier: Apache-2.0
#
"""LASCO and E-LASCO: combining the LAM's reconstruction with the proxy/reference SAM shift"""

import keras
import tensorflow as tf

from lasco_sionna.utils.validation import (check_choice, check_instance,
                                           check_positive)

#: Shapes of the E-LASCO collaboration coefficients
COEFFICIENT_MODES = ("lasco", "scalar", "tap", "antenna")


@keras.saving.register_keras_serializable(package="lasco_sionna")
class CollaborationCombiner(keras.layers.Layer):
    # pylint: disable=line-too-long
    r"""``H = a * f_LAM(x) + b * g_proxy(x) - c * g_ref(x)``

    With ``mode="lasco"`` the coefficients are fixed to 1 (**LASCO**, the
    proxy-minus-reference shift added to the LAM's reconstruction, as in
    proxy-tuning of language models). The other modes learn them
    (**E-LASCO**): one scalar triple, one triple per delay tap, or one per
    angle bin, all initialised to 1 so that E-LASCO starts as LASCO
    (**reconstructed** from the papers' abstracts).

    Parameters
    ----------
    mode : "lasco" | "scalar" (default) | "tap" | "antenna"
        Shape of the coefficients

    num_ant : `int`, (default 32)
        Angle bins (``mode="antenna"``)

    num_taps : `int`, (default 32)
        Delay taps (``mode="tap"``)

    Input
    -----
    (y_lam, y_proxy, y_ref) : `tuple` of 3 [batch, 2, num_ant, num_taps], `tf.float32`
        Reconstructions of the LAM, the proxy SAM and the reference SAM

    Output
    ------
    y : [batch, 2, num_ant, num_taps], `tf.float32`
        Combined reconstruction
    """

    def __init__(self, mode="scalar", num_ant=32, num_taps=32, **kwargs):
        super().__init__(**kwargs)
        check_choice("mode", mode, COEFFICIENT_MODES)
        check_positive("num_ant", num_ant, integer=True)
        check_positive("num_taps", num_taps, integer=True)
        self.mode, self.num_ant, self.num_taps = mode, num_ant, num_taps

    def build(self, input_shape):
        shape = {"lasco": (3, 1, 1, 1), "scalar": (3, 1, 1, 1),
                 "tap": (3, 1, 1, self.num_taps),
                 "antenna": (3, 1, self.num_ant, 1)}[self.mode]
        self.coefficients = self.add_weight(
            name="coefficients", shape=shape, initializer="ones",
            trainable=self.mode != "lasco")
        super().build(input_shape)

    def call(self, inputs):
        y_lam, y_proxy, y_ref = (tf.cast(y, tf.float32) for y in inputs)
        a, b, c = tf.unstack(self.coefficients, axis=0)
        return a * y_lam + b * y_proxy - c * y_ref

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "mode": self.mode,
                "num_ant": self.num_ant, "num_taps": self.num_taps}


#: The parts of a :class:`CollaborativeDecoder`, in call order
DECODER_PARTS = ("lam", "proxy", "reference", "combiner")


@keras.saving.register_keras_serializable(package="lasco_sionna")
class CollaborativeDecoder(keras.layers.Layer):
    # pylint: disable=line-too-long
    r"""LASCO / E-LASCO decoder assembled from its parts

    ``x0 -> combiner([f_LAM(x0), g_proxy(x0), g_ref(x0)])``. The parts are
    any callables (Keras layers, LMMSE decoders, an opaque served LAM), so
    the same decoder serves the SAM-based (:func:`~lasco_sionna.collab.adapt`)
    and the linear (:func:`~lasco_sionna.collab.adapt_linear`) adaptation
    and plugs into :class:`~lasco_sionna.csi.LearnedCSIFeedback`. When every
    part is a Keras layer, the decoder saves and loads as ``.keras`` (its
    config holds the parts' configs, the weights are the parts' weights);
    with an opaque part, :meth:`get_config` raises `TypeError`.

    Computations are in single precision (`tf.float32`, the precision of
    the shipped models); inputs are cast to it.

    Parameters
    ----------
    lam, proxy, reference : `callable`
        ``[batch, 2, num_ant, num_taps] -> [batch, 2, num_ant, num_taps]``

    combiner : :class:`CollaborationCombiner`
        Collaboration coefficients ``(a, b, c)``, shape [3, 1, 1, 1],
        [3, 1, 1, num_taps] or [3, 1, num_ant, 1] by its mode

    Input
    -----
    x0 : [batch, 2, num_ant, num_taps], `tf.float32`
        Coarse inversions of the feedback

    Output
    ------
    x_hat : [batch, 2, num_ant, num_taps], `tf.float32`
        Combined reconstruction
    """

    def __init__(self, lam, proxy, reference, combiner, **kwargs):
        super().__init__(**kwargs)
        for name, f in (("lam", lam), ("proxy", proxy),
                        ("reference", reference)):
            if not callable(f):
                raise TypeError(f"`{name}` must be callable, got {f!r}")
        check_instance("combiner", combiner, CollaborationCombiner)
        self.lam, self.proxy, self.reference = lam, proxy, reference
        self.combiner = combiner

    def build(self, input_shape):
        # No weights of its own: the parts build on their first call
        super().build(input_shape)

    def call(self, x0):
        x0 = tf.cast(x0, tf.float32)
        return self.combiner([self.lam(x0), self.proxy(x0),
                              self.reference(x0)])

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        parts = {name: getattr(self, name) for name in DECODER_PARTS}
        opaque = [n for n, f in parts.items()
                  if not isinstance(f, keras.layers.Layer)]
        if opaque:
            raise TypeError(f"cannot serialise a CollaborativeDecoder whose "
                            f"{', '.join(opaque)} {'is' if len(opaque) == 1 else 'are'}"
                            " not a Keras layer (an opaque callable)")
        return {**super().get_config(),
                **{n: keras.saving.serialize_keras_object(f)
                   for n, f in parts.items()}}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for name in DECODER_PARTS:
            config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)
