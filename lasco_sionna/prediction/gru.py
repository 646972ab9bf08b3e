#
# SPDX-License-Identifier: Apache-2.0
#
"""GRU predictor: one small recurrent network shared by every antenna-subcarrier entry"""

import keras

from lasco_sionna.prediction.entrywise import EntrywisePredictor
from lasco_sionna.utils.validation import check_positive


@keras.saving.register_keras_serializable(package="lasco_sionna")
class GRUPredictor(EntrywisePredictor):
    # pylint: disable=line-too-long
    r"""GRU channel predictor (a Keras model, usable as a layer), trained per environment

    Every antenna-subcarrier entry's history is one sequence of the same
    GRU (weights shared by all entries, so any array and bandwidth fit),
    scaled to unit RMS; a dense head predicts the change from the last
    report for each of the ``horizon`` steps (sample-and-hold at zero
    output), from the GRU's last state
    (:class:`~lasco_sionna.prediction.EntrywisePredictor`). Train with
    :func:`~lasco_sionna.prediction.train_predictor`.

    Parameters
    ----------
    horizon : `int`, (default 1)
        Predicted reports, :math:`H`

    units : `int`, (default 32)
        GRU state size

    num_layers : `int`, (default 1)
        Stacked GRU layers

    kwargs :
        Keras layer arguments (``name``, ``dtype``); others raise `TypeError`

    Input
    -----
    history : [..., history_length, num_bs_ant, fft_size], `tf.complex64`
        Past reports, oldest first

    Output
    ------
    prediction : [..., horizon, num_bs_ant, fft_size], `tf.complex64`
        Predicted reports
    """

    def __init__(self, horizon=1, units=32, num_layers=1, **kwargs):
        super().__init__(horizon, **kwargs)
        check_positive("units", units, integer=True)
        check_positive("num_layers", num_layers, integer=True)
        self.units = int(units)
        self.num_layers = int(num_layers)
        self._grus = [keras.layers.GRU(units, return_sequences=i < num_layers - 1)
                      for i in range(num_layers)]

    @property
    def summary_width(self):
        return self.units

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "num_layers": self.num_layers}

    def build_sequence_model(self, history_length):
        feat = (None, history_length, 2)
        for gru in self._grus:
            gru.build(feat)
            feat = (None, history_length, self.units)

    def summarize(self, features):
        for gru in self._grus:
            features = gru(features)
        # [num_seq, units]: the last layer's last state
        return features
