#
# SPDX-License-Identifier: Apache-2.0
#
"""The channel-predictor interface: history of CSI reports in, future reports out"""

import numpy as np
import tensorflow as tf
from sionna.phy import Block

from lasco_sionna.utils.validation import (check_channel_tensor,
                                           check_finite, check_positive)


def check_history(history, min_length=1, num_bs_ant=None, fft_size=None,
                  name="history"):
    # pylint: disable=line-too-long
    r"""Check a history of CSI reports; raise an error naming the bad value

    Input
    -----
    history : [..., history_length, num_bs_ant, fft_size], `tf.complex` | `np.complex`
        Past reports, oldest first

    min_length : `int`, (default 1)
        Fewest reports the predictor needs

    num_bs_ant, fft_size : `None` (default) | `int`
        Required sizes of the last two dimensions (`None`: any)

    name : `str`, (default "history")
        Name used in the messages

    Output
    ------
    history : `tf.Tensor`
        The history as a tensor. NaN/Inf entries raise `ValueError` (checked
        eagerly; in graph mode by :func:`tf.debugging.check_numerics`).
    """
    history = tf.convert_to_tensor(history)
    check_channel_tensor(name, history, last_dims=(None, None))
    shape = tuple(history.shape)
    if len(shape) < 3:
        raise ValueError(f"`{name}` must have shape [..., history_length, "
                         f"num_bs_ant, fft_size], got shape {shape}")
    for dim, want, label in ((-2, num_bs_ant, "num_bs_ant"),
                             (-1, fft_size, "fft_size")):
        if want is not None and shape[dim] is not None and shape[dim] != want:
            raise ValueError(f"`{name}` has {label}={shape[dim]} (shape "
                             f"{shape}); the predictor was built for "
                             f"{label}={want}")
    if shape[-3] is not None and shape[-3] < min_length:
        raise ValueError(f"`{name}` has history_length={shape[-3]} (shape "
                         f"{shape}); this predictor needs at least "
                         f"{min_length} reports")
    if tf.executing_eagerly():
        check_finite(name, history.numpy())
    else:
        history = tf.complex(
            tf.debugging.check_numerics(tf.math.real(history),
                                        f"`{name}` has NaN/Inf entries"),
            tf.debugging.check_numerics(tf.math.imag(history),
                                        f"`{name}` has NaN/Inf entries"))
    return history


class ChannelPredictor(Block):
    # pylint: disable=line-too-long
    r"""Base class of channel predictors: past CSI reports to future ones

    A predictor maps the last reports of a UE, one every report period, to
    the next ``horizon`` reports. Subclasses implement :meth:`_predict` and
    set :attr:`min_history`; this class checks the input (shape, sizes,
    NaN/Inf) with :func:`check_history`. Trainable predictors are Keras
    layers with the same call (e.g.
    :class:`~lasco_sionna.prediction.GRUPredictor`).

    Parameters
    ----------
    horizon : `int`
        Number of future reports predicted, ``H >= 1``

    num_bs_ant, fft_size : `None` (default) | `int`
        Sizes the predictor was built or fitted for (`None`: any)

    precision : `None` (default) | "single" | "double"
        Precision of the computation and output

    Input
    -----
    history : [..., history_length, num_bs_ant, fft_size], `tf.complex`
        Past reports, oldest first, the last one at time :math:`t`

    Output
    ------
    prediction : [..., horizon, num_bs_ant, fft_size], `tf.complex`
        Predicted reports at :math:`t+1, \dots, t+H` report periods
    """

    def __init__(self, horizon, num_bs_ant=None, fft_size=None,
                 precision=None):
        super().__init__(precision=precision)
        check_positive("horizon", horizon, integer=True)
        for label, value in (("num_bs_ant", num_bs_ant),
                             ("fft_size", fft_size)):
            if value is not None:
                check_positive(label, value, integer=True)
        self._horizon = int(horizon)
        self._num_bs_ant = num_bs_ant
        self._fft_size = fft_size

    @property
    def horizon(self):
        """`int` : Number of predicted reports"""
        return self._horizon

    @property
    def min_history(self):
        """`int` : Fewest past reports the predictor needs"""
        return 1

    def __call__(self, history, **kwargs):
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected keyword "
                            f"arguments {sorted(kwargs)}")
        history = check_history(history, self.min_history, self._num_bs_ant,
                                self._fft_size)
        return super().__call__(history)

    def call(self, history):
        return self._predict(history)

    def _predict(self, history):
        """[..., L, num_bs_ant, fft_size] -> [..., horizon, num_bs_ant, fft_size]"""
        raise NotImplementedError


def last_reports(history, num):
    """[..., num, num_bs_ant, fft_size] : The last ``num`` reports of ``history``"""
    return history[..., history.shape[-3] - num:, :, :]


def as_numpy_complex(x):
    """`np.complex128` array of a complex tensor or array"""
    x = x.numpy() if hasattr(x, "numpy") else np.asarray(x)
    return x.astype(np.complex128)
