#
# SPDX-License-Identifier: Apache-2.0
#
"""AR / Wiener predictor fitted per environment by least squares"""

from lasco_sionna.prediction.linear import (LinearPredictor,
                                            least_squares_coefficients)
from lasco_sionna.utils.validation import check_positive


class ARPredictor(LinearPredictor):
    # pylint: disable=line-too-long
    r"""Autoregressive (finite Wiener) predictor fitted on an environment's sequences

    Direct multi-step least squares
    (:func:`~lasco_sionna.prediction.linear.least_squares_coefficients`):
    one set of ``order`` coefficients per step ahead and per group --
    per delay tap in the angular-delay domain (mode "tap", the default),
    per antenna-subcarrier entry (mode "element") or one for all entries
    ("shared"). On noisy training histories the fit is the Wiener filter
    for that noise level (the targets should then be clean).

    Parameters
    ----------
    sequences : [num_sequences, num_reports, num_bs_ant, fft_size], `np.complex` | `tf.complex`
        Training sequences of the environment (``num_reports >= order +
        horizon``)

    order : `int`
        Past reports used, :math:`p`

    horizon : `int`, (default 1)
        Predicted reports, :math:`H`

    mode : "element" | "tap" | "shared", (default "tap")
        Coefficient groups

    regularization : `float`, (default 1e-8)
        Relative diagonal loading of the normal equations

    precision : `None` (default) | "single" | "double"
        Precision of the computation and output

    Input
    -----
    history : [..., history_length, num_bs_ant, fft_size], `tf.complex`
        Past reports, oldest first (``history_length >= order``)

    Output
    ------
    prediction : [..., horizon, num_bs_ant, fft_size], `tf.complex`
        Predicted reports
    """

    def __init__(self, sequences, order, horizon=1, mode="tap",
                 regularization=1e-8, precision=None):
        check_positive("order", order, integer=True)
        check_positive("horizon", horizon, integer=True)
        check_positive("regularization", regularization, allow_zero=True)
        c = least_squares_coefficients(sequences, order, horizon, mode,
                                       regularization)
        super().__init__(c, mode, precision=precision)
