#
# SPDX-License-Identifier: Apache-2.0
#
"""Predicted CSI as a CSI path: any feedback path, with the CSI predicted over the feedback delay"""

import numpy as np
import tensorflow as tf

from lasco_sionna.channels.config import BSArray, Numerology
from lasco_sionna.channels.environment import get_environment
from lasco_sionna.csi.feedback import (CSIContext, CSIFeedback,
                                       fill_from_context, get_csi_feedback,
                                       register_csi_feedback)
from lasco_sionna.prediction.data import noisy_reports, report_sequences
from lasco_sionna.prediction.registry import (get_predictor,
                                              predictor_needs_training)
from lasco_sionna.utils.validation import (check_channel_tensor, check_choice,
                                           check_instance, check_positive,
                                           split_spec)

#: Where the prediction happens relative to the feedback compression
ORDERS = ("predict_then_compress", "compress_then_predict")


class PredictedCSI(CSIFeedback):
    # pylint: disable=line-too-long
    r"""A CSI path whose reports are predicted ``horizon`` report periods ahead

    Wraps any CSI path ``inner`` (perfect, quantised, codebooks, learned).
    The UE has measured its last ``history_length`` channels, one per report
    period; the precoded transmission happens ``horizon`` periods after the
    last one (the feedback delay).

    - ``"predict_then_compress"``: the UE predicts from its measured history
      and feeds the prediction back through ``inner`` (one report, payload
      ``inner.payload_bits``).
    - ``"compress_then_predict"``: every report goes through ``inner``; the
      BS predicts from the reconstructed reports (payload
      ``inner.payload_bits`` per report; the predictor should then be
      fitted on reconstructed reports, as :func:`predicted_csi_feedback`
      does).

    With ``horizon = 0`` the path is ``inner`` applied to the last report.
    With ``snr_db``, the UE measures its channels with AWGN at that SNR per
    entry (:func:`~lasco_sionna.prediction.noisy_reports`) before anything
    else; ``predictor="hold"`` then gives noisy aged CSI.

    Parameters
    ----------
    inner : :class:`~lasco_sionna.csi.CSIFeedback`
        The feedback path (must take single reports)

    predictor : `None` | `callable`
        ``[..., history_length, num_bs_ant, fft_size] -> [..., H,
        num_bs_ant, fft_size]`` with ``H >= horizon``, e.g. a
        :class:`~lasco_sionna.prediction.ChannelPredictor` (`None` only if
        ``horizon = 0``)

    history_length : `int`
        Past reports given to the path, :math:`L`

    horizon : `int`
        Report periods predicted ahead (0: no prediction)

    order : "predict_then_compress" (default) | "compress_then_predict"
        Where the prediction happens

    snr_db : `None` (default) | `float`
        Measurement SNR of the history [dB] (`None`: exact measurements)

    precision : `None` (default) | "single" | "double"
        Precision of internal computations and outputs

    Input
    -----
    history : [..., history_length, num_bs_ant, fft_size], `tf.complex`
        Channels measured by the UE, oldest first

    Output
    ------
    h_hat : [..., num_bs_ant, fft_size], `tf.complex`
        What the BS knows of the channel ``horizon`` periods after the last
        report
    """

    def __init__(self, inner, predictor, history_length, horizon,
                 order="predict_then_compress", snr_db=None, precision=None):
        check_instance("inner", inner, CSIFeedback)
        if inner.history_length != 1:
            raise ValueError(f"`inner` must take single reports, got a path "
                             f"with history_length={inner.history_length}")
        super().__init__(inner.num_bs_ant, inner.fft_size,
                         precision=precision)
        check_positive("history_length", history_length, integer=True)
        check_positive("horizon", horizon, integer=True, allow_zero=True)
        check_choice("order", order, ORDERS)
        if horizon > 0:
            if not callable(predictor):
                raise TypeError("`predictor` must be callable when "
                                f"horizon={horizon} > 0, got {predictor!r}")
            h = getattr(predictor, "horizon", None)
            if h is not None and h < horizon:
                raise ValueError(f"the predictor predicts {h} reports ahead, "
                                 f"horizon={horizon} needs {horizon}")
            need = getattr(predictor, "min_history", 1)
            if need > history_length:
                raise ValueError(f"the predictor needs {need} past reports, "
                                 f"history_length={history_length}")
        self.inner = inner
        self.predictor = predictor
        self._history_length = int(history_length)
        self.horizon = int(horizon)
        self.order = order
        if snr_db is not None and not np.isfinite(snr_db):
            raise ValueError(f"`snr_db` must be finite or None, got "
                             f"{snr_db!r}")
        self.snr_db = None if snr_db is None else float(snr_db)

    @property
    def history_length(self):
        return self._history_length

    @property
    def payload_bits(self):
        """`int` : Payload of one report [bit] (``compress_then_predict``
        sends ``history_length`` reports over as many periods)"""
        return self.inner.payload_bits

    def check_input(self, h):
        h = check_channel_tensor("history", h, last_dims=(
            self.history_length, self.num_bs_ant, self.fft_size))
        if len(h.shape) < 3:
            raise ValueError("`history` must have shape [..., "
                             f"history_length={self.history_length}, "
                             f"num_bs_ant, fft_size], got {tuple(h.shape)}")
        return h

    def _prepare(self, h):
        h = super()._prepare(h)
        if self.snr_db is None:
            return h
        return noisy_reports(h, self.snr_db, precision=self.precision)[0]

    def predict(self, history):
        """[..., history_length, num_bs_ant, fft_size] -> [..., num_bs_ant, fft_size]: the report ``horizon`` periods after the last (the last if 0)"""
        if self.horizon == 0:
            return history[..., -1, :, :]
        y = tf.cast(self.predictor(history), self.cdtype)
        return y[..., self.horizon - 1, :, :]

    def encode(self, h):
        h = self._prepare(h)
        if self.horizon == 0:
            return self.inner.encode(h[..., -1, :, :])
        if self.order == "predict_then_compress":
            return self.inner.encode(self.predict(h))
        # [..., history_length, payload_bits]
        return self.inner.encode(h)

    def decode(self, bits):
        if self.horizon == 0 or self.order == "predict_then_compress":
            return tf.cast(self.inner.decode(bits), self.cdtype)
        # [..., history_length, num_bs_ant, fft_size]
        h = tf.cast(self.inner.decode(bits), self.cdtype)
        return self.predict(h)

    def call(self, h):
        h = self._prepare(h)
        if self.horizon == 0:
            return tf.cast(self.inner(h[..., -1, :, :]), self.cdtype)
        if self.order == "predict_then_compress":
            return tf.cast(self.inner(self.predict(h)), self.cdtype)
        return self.predict(tf.cast(self.inner(h), self.cdtype))

    def __repr__(self):
        return (f"PredictedCSI(inner={self.inner!r}, predictor="
                f"{type(self.predictor).__name__}, history_length="
                f"{self.history_length}, horizon={self.horizon}, "
                f"order={self.order!r}, snr_db={self.snr_db})")


def _apply(csi, sequences, batch_size=256):
    """``csi`` on every report of ``sequences`` [N, T, num_bs_ant, fft_size] -> `np.complex64`, same shape"""
    x = sequences.reshape((-1,) + sequences.shape[2:])
    out = np.concatenate([np.asarray(csi(tf.constant(x[i:i + batch_size])))
                          for i in range(0, len(x), batch_size)], axis=0)
    return out.reshape(sequences.shape).astype(np.complex64)


def predicted_csi_feedback(num_bs_ant, fft_size, precision=None,
                           inner="perfect", predictor="ar",
                           order="predict_then_compress", history_length=8,
                           horizon=None, environment=None, numerology=None,
                           bs_array=None, num_sequences=100, extra_reports=4,
                           snr_db=None, seed=202, context=None):
    # pylint: disable=line-too-long
    r"""The CSI path ``"predicted"``: any CSI path with the CSI predicted over the feedback delay

    ``{"name": "predicted", "inner": <CSI spec>, "predictor": <predictor
    spec>, "order": ..., "history_length": L}``. Predictors that are fitted
    (``ar``, ``kalman``, ``lookup``, see
    :func:`~lasco_sionna.prediction.get_predictor`) are fitted on
    ``num_sequences`` report sequences of ``environment`` (a cached dataset
    drawn with ``seed``, one report per slot of ``numerology``, the link's
    snapshot period), on the clean reports for ``"predict_then_compress"``
    and on the reports reconstructed by ``inner`` for
    ``"compress_then_predict"``. What is not given is taken from
    ``context`` (a sweep point passes its own): ``horizon`` from its
    ``feedback_delay``, ``environment``, ``numerology`` and ``bs_array``;
    a context-aware inner path (e.g. ``"adapted"``) gets the same.

    Parameters
    ----------
    num_bs_ant, fft_size : `int`
        Link dimensions

    precision : `None` (default) | "single" | "double"
        Precision of the outputs

    inner : `str` | `dict`, (default "perfect")
        Spec of the feedback path (see
        :func:`~lasco_sionna.csi.get_csi_feedback`), not itself predicted

    predictor : `str` | `dict`, (default "ar")
        Predictor spec (see :func:`~lasco_sionna.prediction.get_predictor`)

    order : "predict_then_compress" (default) | "compress_then_predict"
        Where the prediction happens

    history_length : `int`, (default 8)
        Past reports, :math:`L`

    horizon : `int`
        Slots predicted ahead: the link's ``feedback_delay``

    environment : `None` (default) | `str` | `dict`
        Environment of the training sequences (name or ``{"name": ...,
        **params}``, UE speed included); needed by fitted predictors and
        ``wiener``

    numerology, bs_array : `None` (default) | `dict`
        :class:`~lasco_sionna.channels.Numerology` and
        :class:`~lasco_sionna.channels.BSArray` fields

    num_sequences : `int`, (default 100)
        Training sequences (UEs)

    extra_reports : `int`, (default 4)
        Reports per sequence beyond ``history_length + horizon``

    snr_db : `None` (default) | `float`
        Measurement SNR of the UE's channels [dB] (`None`: exact); the
        predictors are then fitted on training reports with that noise

    seed : `int`, (default 202)
        Seed of the training draw (use one the link's channels do not use)

    context : `None` (default) | :class:`~lasco_sionna.csi.CSIContext`
        Where the path is used: fills ``horizon``, ``environment``,
        ``numerology`` and ``bs_array`` when they are `None`

    Output
    ------
    csi : :class:`PredictedCSI`
    """
    filled = fill_from_context(context, feedback_delay=horizon,
                               environment=environment,
                               numerology=numerology, bs_array=bs_array)
    horizon, environment, numerology, bs_array = (
        filled["feedback_delay"], filled["environment"],
        filled["numerology"], filled["bs_array"])
    if horizon is None:
        raise ValueError("the 'predicted' CSI path needs `horizon`, the "
                         "feedback delay in slots (sweep points fill it in "
                         "from `feedback_delay`)")
    check_positive("horizon", horizon, integer=True, allow_zero=True)
    check_positive("history_length", history_length, integer=True)
    check_positive("num_sequences", num_sequences, integer=True)
    check_positive("extra_reports", extra_reports, integer=True,
                   allow_zero=True)
    check_choice("order", order, ORDERS)
    inner_name, inner_params = split_spec("inner CSI feedback", inner)
    if inner_name == "predicted":
        raise ValueError("the inner path of 'predicted' cannot itself be "
                         "'predicted'")
    inner = get_csi_feedback({"name": inner_name, **inner_params}, num_bs_ant,
                             fft_size, precision=precision,
                             context=CSIContext(environment, numerology,
                                                bs_array, horizon))
    needs_training = predictor_needs_training(predictor)
    pred = None
    if horizon > 0:
        env, sequences, max_doppler, period = None, None, None, None
        if needs_training or split_spec("predictor", predictor)[0] == "wiener":
            if environment is None:
                raise ValueError(f"predictor {predictor!r} needs the "
                                 "`environment` (sweep points fill it in)")
            name, params = split_spec("environment", environment)
            env = get_environment(
                name, numerology=Numerology(**(numerology or {})),
                bs_array=BSArray(**(bs_array or {})), **params)
            period = env.numerology.slot_duration
            max_doppler = getattr(env, "max_doppler", None)
        if needs_training:
            ds = report_sequences(env, num_sequences,
                                  history_length + horizon + extra_reports,
                                  period, seed=seed, progress=False)
            # [num_sequences, num_reports, num_bs_ant, fft_size]
            sequences = ds.as_matrix(time_step=None)
            if snr_db is not None:
                sequences = noisy_reports(sequences, snr_db, seed=seed)[0]
                sequences = sequences.numpy()
            if order == "compress_then_predict":
                sequences = _apply(inner, sequences)
        no = 0.0 if snr_db is None else 10.0 ** (-snr_db / 10.0)
        pred = get_predictor(predictor, history_length, horizon, sequences,
                             noise_variance=no, max_doppler=max_doppler,
                             report_period=period, precision=precision)
    return PredictedCSI(inner, pred, history_length, horizon, order, snr_db,
                        precision=precision)


register_csi_feedback("predicted", predicted_csi_feedback, uses_context=True)
