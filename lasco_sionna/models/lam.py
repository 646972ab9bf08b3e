#
# SPDX-License-Identifier: Apache-2.0
#
"""The large AI model (LAM): a transformer CSI decoder over delay-tap tokens"""

import keras
import numpy as np
import tensorflow as tf

from lasco_sionna.utils.validation import check_positive


@keras.saving.register_keras_serializable(package="lasco_sionna")
class TransformerBlock(keras.layers.Layer):
    """Pre-norm transformer encoder block (self-attention + GELU MLP)

    Parameters
    ----------
    d_model : `int`
        Token width

    num_heads : `int`
        Attention heads

    ff_dim : `int`
        Hidden width of the MLP

    causal : `bool`, (default `False`)
        Token ``i`` attends to tokens ``j <= i`` only (then output ``i``
        does not depend on later tokens)

    Input
    -----
    x : [batch, num_tokens, d_model], `tf.float32`

    Output
    ------
    y : [batch, num_tokens, d_model], `tf.float32`
    """

    def __init__(self, d_model, num_heads, ff_dim, causal=False, **kwargs):
        super().__init__(**kwargs)
        self.d_model, self.num_heads, self.ff_dim = d_model, num_heads, ff_dim
        self.causal = bool(causal)
        self.norm1 = keras.layers.LayerNormalization(epsilon=1e-6)
        self.attn = keras.layers.MultiHeadAttention(
            num_heads, d_model // num_heads)
        self.norm2 = keras.layers.LayerNormalization(epsilon=1e-6)
        self.ff1 = keras.layers.Dense(ff_dim, activation="gelu")
        self.ff2 = keras.layers.Dense(d_model)

    def build(self, input_shape):
        self.norm1.build(input_shape)
        self.attn.build(input_shape, input_shape)
        self.norm2.build(input_shape)
        self.ff1.build(input_shape)
        self.ff2.build(tuple(input_shape[:-1]) + (self.ff_dim,))
        super().build(input_shape)

    def call(self, x):
        h = self.norm1(x)
        x = x + self.attn(h, h, use_causal_mask=self.causal)
        return x + self.ff2(self.ff1(self.norm2(x)))

    def get_config(self):
        return {**super().get_config(), "d_model": self.d_model,
                "num_heads": self.num_heads, "ff_dim": self.ff_dim,
                "causal": self.causal}


@keras.saving.register_keras_serializable(package="lasco_sionna")
class TransformerLAM(keras.layers.Layer):
    # pylint: disable=line-too-long
    r"""LAM CSI decoder: a transformer refining the coarse inversion

    Tokens are the delay taps of the angular-delay image (each token holds
    the real and imaginary parts over all angle bins). A linear embedding,
    learned position embeddings, ``num_layers`` pre-norm transformer blocks
    and a linear head predict a correction added to the input (residual), so
    an untrained LAM returns the coarse inversion.

    With ``code_dim > 0`` a *global linear lift* first maps the coarse
    inversion to ``x_lin = x0 + W_out W_in vec(x0)`` (rank ``code_dim``,
    ``W_out`` starts at zero); tokens are cut from ``x_lin`` and the head's
    correction is added to it. The coarse inversion spreads every
    measurement over the whole image, so per-token embeddings of ``x0`` see
    noise-like mixtures; the lift is a learned, environment-agnostic linear
    inverse of the compression (the fully connected first layer of CsiNet).
    :meth:`init_linear_inverse` sets it to an LMMSE decoder, e.g. with the
    pooled covariance of the pretraining data, so training starts from the
    best linear decoder. It adds ``4 num_ant num_taps code_dim`` parameters.

    Parameters
    ----------
    num_ant : `int`, (default 32)
        Angle bins

    num_taps : `int`, (default 32)
        Delay taps (tokens)

    d_model : `int`, (default 256)
        Token width

    num_layers : `int`, (default 6)
        Transformer blocks

    num_heads : `int`, (default 8)
        Attention heads

    ff_dim : `int`, (default 512)
        MLP width

    code_dim : `int`, (default 0)
        Rank of the global linear lift; 0 disables it

    Input
    -----
    x0 : [batch, 2, num_ant, num_taps], `tf.float32`
        Coarse CSI image (BS-side inversion of the feedback)

    Output
    ------
    x_hat : [batch, 2, num_ant, num_taps], `tf.float32`
        Reconstructed CSI image
    """

    def __init__(self, num_ant=32, num_taps=32, d_model=256, num_layers=6,
                 num_heads=8, ff_dim=512, code_dim=0, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("num_ant", num_ant), ("num_taps", num_taps),
                            ("d_model", d_model), ("num_layers", num_layers),
                            ("num_heads", num_heads), ("ff_dim", ff_dim)):
            check_positive(name, value, integer=True)
        if isinstance(code_dim, bool) or not isinstance(code_dim, int) \
                or code_dim < 0:
            raise ValueError("`code_dim` must be a non-negative integer, "
                             f"got {code_dim!r}")
        if d_model % num_heads:
            raise ValueError(f"`num_heads`={num_heads} must divide "
                             f"`d_model`={d_model}")
        self.num_ant, self.num_taps = num_ant, num_taps
        self.d_model, self.num_layers = d_model, num_layers
        self.num_heads, self.ff_dim = num_heads, ff_dim
        self.code_dim = code_dim
        self._dim = 2 * num_ant * num_taps
        if code_dim:
            self.lift_in = keras.layers.Dense(code_dim, use_bias=False)
            self.lift_out = keras.layers.Dense(
                self._dim, use_bias=False, kernel_initializer="zeros")
        self.embed = keras.layers.Dense(d_model)
        self.blocks = [TransformerBlock(d_model, num_heads, ff_dim)
                       for _ in range(num_layers)]
        self.norm = keras.layers.LayerNormalization(epsilon=1e-6)
        self.head = keras.layers.Dense(2 * num_ant, kernel_initializer="zeros")

    def build(self, input_shape):
        tokens = (None, self.num_taps, 2 * self.num_ant)
        self.embed.build(tokens)
        if self.code_dim:
            self.lift_in.build((None, self._dim))
            self.lift_out.build((None, self.code_dim))
        self.pos = self.add_weight(
            name="position_embedding", shape=(self.num_taps, self.d_model),
            initializer=keras.initializers.RandomNormal(stddev=0.02))
        inner = (None, self.num_taps, self.d_model)
        for block in self.blocks:
            block.build(inner)
        self.norm.build(inner)
        self.head.build(inner)
        super().build(input_shape)

    def init_linear_inverse(self, projection, gain):
        """Set the lift to the linear decoder ``x_lin = G A x0``

        Input
        -----
        projection : [M, D], `np.ndarray`
            The encoder's ``A`` (orthonormal rows, ``M <= code_dim``)

        gain : [D, M], `np.ndarray`
            ``G``, e.g. from :func:`~lasco_sionna.models.lmmse_gain`
        """
        projection = np.asarray(projection, np.float32)
        gain = np.asarray(gain, np.float32)
        m = projection.shape[0]
        if not self.code_dim:
            raise ValueError("the LAM has no lift (`code_dim`=0)")
        if projection.shape != (m, self._dim) or gain.shape != (self._dim, m) \
                or m > self.code_dim:
            raise ValueError(f"need `projection` [M, {self._dim}] and `gain` "
                             f"[{self._dim}, M] with M <= code_dim="
                             f"{self.code_dim}, got {projection.shape} and "
                             f"{gain.shape}")
        if not self.built:
            self.build((None, 2, self.num_ant, self.num_taps))
        w_in = self.lift_in.kernel.numpy()
        w_in[:, :m] = projection.T
        w_out = np.zeros((self.code_dim, self._dim), np.float32)
        # x0 lies in the row space of A: x0 + (G - A^T) A x0 = G A x0
        w_out[:m] = (gain - projection.T).T
        self.lift_in.kernel.assign(w_in)
        self.lift_out.kernel.assign(w_out)

    def call(self, x0):
        x0 = tf.cast(x0, tf.float32)
        if self.code_dim:
            # [batch, D]
            v = tf.reshape(x0, [-1, self._dim])
            # [batch, 2, num_ant, num_taps]
            x0 = x0 + tf.reshape(self.lift_out(self.lift_in(v)),
                                 [-1, 2, self.num_ant, self.num_taps])
        # [batch, num_taps, 2, num_ant]
        t = tf.transpose(x0, [0, 3, 1, 2])
        # [batch, num_taps, 2 * num_ant]
        t = tf.reshape(t, [-1, self.num_taps, 2 * self.num_ant])
        h = self.embed(t) + self.pos
        for block in self.blocks:
            h = block(h)
        # [batch, num_taps, 2 * num_ant]
        d = self.head(self.norm(h))
        # [batch, num_taps, 2, num_ant]
        d = tf.reshape(d, [-1, self.num_taps, 2, self.num_ant])
        # [batch, 2, num_ant, num_taps]
        return x0 + tf.transpose(d, [0, 2, 3, 1])

    def get_config(self):
        return {**super().get_config(), "num_ant": self.num_ant,
                "num_taps": self.num_taps, "d_model": self.d_model,
                "num_layers": self.num_layers, "num_heads": self.num_heads,
                "ff_dim": self.ff_dim, "code_dim": self.code_dim}
