#
# SPDX-License-Identifier: Apache-2.0
#
"""Transformer predictor: a small causal transformer over the past reports, shared by every antenna-subcarrier entry"""

import keras
import tensorflow as tf

from lasco_sionna.models.lam import TransformerBlock
from lasco_sionna.prediction.entrywise import EntrywisePredictor
from lasco_sionna.utils.validation import check_positive


@keras.saving.register_keras_serializable(package="lasco_sionna")
class TransformerPredictor(EntrywisePredictor):
    # pylint: disable=line-too-long
    r"""Causal transformer channel predictor (a Keras model, usable as a layer), trained per environment

    Every antenna-subcarrier entry's history is one sequence of :math:`L`
    tokens, one per report (real and imaginary part at unit RMS, embedded
    linearly to ``d_model``, plus a learned embedding of the report's age
    :math:`L-1-t`, so the last report always has the same position). Pre-norm
    transformer blocks (:class:`~lasco_sionna.models.TransformerBlock`)
    with a causal mask (token :math:`t` attends to reports :math:`\le t`)
    refine the tokens; the last token, after a final layer norm, feeds the
    head that predicts the change from the last report for each of the
    ``horizon`` steps (sample-and-hold at initialisation;
    :class:`~lasco_sionna.prediction.EntrywisePredictor`, as the GRU).
    Weights are shared by all entries, so any array and bandwidth fit.
    Train with :func:`~lasco_sionna.prediction.train_predictor`.

    Parameters
    ----------
    horizon : `int`, (default 1)
        Predicted reports, :math:`H`

    d_model : `int`, (default 32)
        Token width

    num_heads : `int`, (default 4)
        Attention heads (must divide ``d_model``)

    num_layers : `int`, (default 2)
        Transformer blocks

    ff_dim : `int`, (default 64)
        Hidden width of each block's MLP

    max_history : `int`, (default 16)
        Longest history (number of learned age embeddings)

    kwargs :
        Keras layer arguments (``name``, ``dtype``); others raise `TypeError`

    Input
    -----
    history : [..., history_length, num_bs_ant, fft_size], `tf.complex64`
        Past reports, oldest first (``history_length <= max_history``)

    Output
    ------
    prediction : [..., horizon, num_bs_ant, fft_size], `tf.complex64`
        Predicted reports
    """

    def __init__(self, horizon=1, d_model=32, num_heads=4, num_layers=2,
                 ff_dim=64, max_history=16, **kwargs):
        super().__init__(horizon, **kwargs)
        for name, value in (("d_model", d_model), ("num_heads", num_heads),
                            ("num_layers", num_layers), ("ff_dim", ff_dim),
                            ("max_history", max_history)):
            check_positive(name, value, integer=True)
        if d_model % num_heads:
            raise ValueError(f"`num_heads`={num_heads} must divide "
                             f"`d_model`={d_model}")
        self.d_model = int(d_model)
        self.num_heads = int(num_heads)
        self.num_layers = int(num_layers)
        self.ff_dim = int(ff_dim)
        self.max_history = int(max_history)
        self._embed = keras.layers.Dense(self.d_model)
        self._blocks = [TransformerBlock(self.d_model, self.num_heads,
                                         self.ff_dim, causal=True)
                        for _ in range(self.num_layers)]
        self._norm = keras.layers.LayerNormalization(epsilon=1e-6)
        self._age = None

    @property
    def summary_width(self):
        return self.d_model

    def get_config(self):
        return {**super().get_config(), "d_model": self.d_model,
                "num_heads": self.num_heads, "num_layers": self.num_layers,
                "ff_dim": self.ff_dim, "max_history": self.max_history}

    def _check_history_length(self, history_length):
        """Raise `ValueError` if ``history_length`` (`None`: unknown) exceeds ``max_history``"""
        if history_length is not None and history_length > self.max_history:
            raise ValueError(f"`history` has history_length={history_length}"
                             f"; this predictor takes at most max_history="
                             f"{self.max_history} reports")

    def build_sequence_model(self, history_length):
        self._check_history_length(history_length)
        tokens = (None, history_length, self.d_model)
        self._embed.build((None, history_length, 2))
        # Age embedding: row a is the report a periods before the last one
        self._age = self.add_weight(
            shape=(self.max_history, self.d_model), name="age_embedding",
            initializer=keras.initializers.RandomNormal(stddev=0.02))
        for block in self._blocks:
            block.build(tokens)
        self._norm.build(tokens)

    def tokens(self, features):
        # pylint: disable=line-too-long
        r"""The causal transformer's output tokens of every entry's history

        Input
        -----
        features : [num_seq, history_length, 2], `tf.float32`
            Real and imaginary parts of each entry's history at unit RMS,
            oldest first

        Output
        ------
        tokens : [num_seq, history_length, d_model], `tf.float32`
            Token ``t`` depends on ``features[:, :t + 1]`` only
        """
        self._check_history_length(features.shape[-2])
        # [history_length, d_model]: ages L-1, ..., 0
        age = tf.reverse(self._age[:tf.shape(features)[-2]], axis=[0])
        # [num_seq, history_length, d_model]
        x = self._embed(features) + age
        for block in self._blocks:
            x = block(x)
        return self._norm(x)

    def summarize(self, features):
        # [num_seq, d_model]: the last token
        return self.tokens(features)[:, -1]
