#
# SPDX-License-Identifier: Apache-2.0
#
"""Sample-and-hold: the last report is the prediction"""

import tensorflow as tf

from lasco_sionna.prediction.base import ChannelPredictor, last_reports


class SampleAndHold(ChannelPredictor):
    # pylint: disable=line-too-long
    r"""Sample-and-hold predictor: :math:`\hat{\mathbf{H}}_{t+h} = \mathbf{H}_t`

    What a BS without prediction uses. On a stationary process with
    normalised temporal correlation :math:`\rho(\tau)` its NMSE at lag
    :math:`\tau` is :math:`2(1 - \mathrm{Re}\,\rho(\tau))` (plus the noise
    variance of a noisy last report); for Jakes fading
    :math:`2(1 - J_0(2\pi f_D \tau))` (see
    :func:`~lasco_sionna.prediction.linear_predictor_nmse`).

    Parameters
    ----------
    horizon : `int`
        Number of future reports

    precision : `None` (default) | "single" | "double"
        Precision of the output

    Input
    -----
    history : [..., history_length, num_bs_ant, fft_size], `tf.complex`
        Past reports, oldest first

    Output
    ------
    prediction : [..., horizon, num_bs_ant, fft_size], `tf.complex`
        The last report, repeated
    """

    def __init__(self, horizon=1, precision=None):
        super().__init__(horizon, precision=precision)

    def _predict(self, history):
        # [..., horizon, num_bs_ant, fft_size]
        return tf.repeat(last_reports(history, 1), self.horizon, axis=-3)
