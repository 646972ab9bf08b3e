#
# SPDX-License-Identifier: Apache-2.0
#
"""Predictors by name: ``{"name": ..., **params}`` specs for configs and sweeps"""

from lasco_sionna.prediction.ar import ARPredictor
from lasco_sionna.prediction.hold import SampleAndHold
from lasco_sionna.prediction.kalman import KalmanPredictor
from lasco_sionna.prediction.lookup import LookupPredictor
from lasco_sionna.prediction.pretrained import load_predictor
from lasco_sionna.prediction.prony import PronyPredictor
from lasco_sionna.prediction.wiener import WienerPredictor
from lasco_sionna.utils.validation import check_positive, split_spec

#: Predictors of :func:`get_predictor` and whether they fit on training
#: sequences of the environment
PREDICTORS = {"hold": False, "ar": True, "kalman": True, "lookup": True,
              "prony": False, "wiener": False, "gru": False,
              "transformer": False}


def predictor_needs_training(spec):
    """`bool` : The predictor of ``spec`` is fitted on training sequences"""
    name, _ = split_spec("predictor", spec)
    if name not in PREDICTORS:
        raise ValueError(f"unknown predictor {name!r}; valid names: "
                         + ", ".join(sorted(PREDICTORS)))
    return PREDICTORS[name]


def get_predictor(spec, history_length, horizon, sequences=None,
                  noise_variance=0.0, max_doppler=None, report_period=None,
                  precision=None):
    # pylint: disable=line-too-long
    r"""Build (and fit) a predictor from a spec

    ===============  ============================================  =====================================
    name             predictor                                     parameters (defaults)
    ===============  ============================================  =====================================
    ``hold``         :class:`SampleAndHold`                        --
    ``ar``           :class:`ARPredictor` (least squares)          ``order`` (4), ``mode`` ("tap"),
                                                                   ``regularization`` (1e-8)
    ``kalman``       :class:`KalmanPredictor` on AR(``order``)     ``order`` (4), ``mode`` ("tap"),
                                                                   ``regularization`` (1e-3)
    ``lookup``       :class:`LookupPredictor` (nearest neighbour)  ``num_atoms`` (4096), ``seed`` (0)
    ``prony``        :class:`PronyPredictor`                       ``num_modes`` (2),
                                                                   ``regularization`` (1e-3)
    ``wiener``       :class:`WienerPredictor` with the Jakes       --
                     correlation (needs ``max_doppler``)
    ``gru``          a shipped trained :class:`GRUPredictor`       ``model`` (see
                     (:func:`load_predictor`; predicts at least    :func:`list_predictors`)
                     ``horizon`` reports)
    ``transformer``  a shipped trained                             ``model`` (see
                     :class:`TransformerPredictor` (as ``gru``)    :func:`list_predictors`)
    ===============  ============================================  =====================================

    Input
    -----
    spec : `str` | `dict`
        ``name`` or ``{"name": ..., **params}``

    history_length : `int`
        Reports the predictor is given, :math:`L` (must be at least what it
        needs, e.g. the AR order)

    horizon : `int`
        Predicted reports, :math:`H`

    sequences : `None` (default) | [num_sequences, num_reports, num_bs_ant, fft_size], `np.complex`
        Training sequences (``ar``, ``kalman``, ``lookup``)

    noise_variance : `float`, (default 0)
        Noise variance of the histories (``kalman``, ``wiener``)

    max_doppler : `None` (default) | `float`
        Maximum Doppler shift [Hz] (``wiener``)

    report_period : `None` (default) | `float`
        Report period [s] (``wiener``)

    precision : `None` (default) | "single" | "double"
        Precision of the predictor

    Output
    ------
    predictor : :class:`~lasco_sionna.prediction.ChannelPredictor`
        ``[..., history_length, num_bs_ant, fft_size] -> [..., horizon,
        num_bs_ant, fft_size]``
    """
    check_positive("history_length", history_length, integer=True)
    check_positive("horizon", horizon, integer=True)
    name, params = split_spec("predictor", spec)
    if predictor_needs_training(spec) and sequences is None:
        raise ValueError(f"predictor {name!r} is fitted on training "
                         "sequences; `sequences` is None")
    known = {"hold": (), "ar": ("order", "mode", "regularization"),
             "kalman": ("order", "mode", "regularization"),
             "lookup": ("num_atoms", "seed"),
             "prony": ("num_modes", "regularization"), "wiener": (),
             "gru": ("model",), "transformer": ("model",)}[name]
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise ValueError(f"unknown parameters {unknown} of predictor "
                         f"{name!r}; allowed: {list(known)}")
    if name == "hold":
        predictor = SampleAndHold(horizon, precision=precision)
    elif name == "ar":
        predictor = ARPredictor(sequences, params.pop("order", 4), horizon,
                                precision=precision, **params)
    elif name == "kalman":
        predictor = KalmanPredictor(sequences, params.pop("order", 4),
                                    history_length, horizon,
                                    noise_variance=noise_variance,
                                    precision=precision, **params)
    elif name == "lookup":
        predictor = LookupPredictor(sequences, history_length, horizon,
                                    precision=precision, **params)
    elif name in ("gru", "transformer"):
        if "model" not in params:
            raise ValueError(f"predictor {name!r} needs `model`, a shipped "
                             f"trained predictor, e.g. {{'name': '{name}', "
                             f"'model': '{name}-tdl-a'}}")
        predictor, record = load_predictor(params["model"])
        if record.get("model", "gru") != name:
            raise ValueError(f"trained predictor {params['model']!r} is a "
                             f"{record.get('model', 'gru')!r} model, not a "
                             f"{name!r} one")
        if predictor.horizon < horizon:
            raise ValueError(f"trained predictor {params['model']!r} "
                             f"predicts {predictor.horizon} reports ahead, "
                             f"horizon={horizon} needs more")
        if record["history_length"] != history_length:
            raise ValueError(f"trained predictor {params['model']!r} was "
                             "trained on histories of "
                             f"{record['history_length']} reports, "
                             f"history_length={history_length}")
    elif name == "prony":
        predictor = PronyPredictor(params.pop("num_modes", 2), horizon,
                                   precision=precision, **params)
    else:
        if max_doppler is None or report_period is None:
            raise ValueError("predictor 'wiener' (Jakes correlation) needs "
                             "`max_doppler` and `report_period`; the "
                             "environment has no known maximum Doppler "
                             f"(max_doppler={max_doppler!r})")
        predictor = WienerPredictor.jakes(max_doppler, report_period,
                                          history_length, horizon,
                                          noise_variance=noise_variance,
                                          precision=precision)
    if predictor.min_history > history_length:
        raise ValueError(f"predictor {spec!r} needs at least "
                         f"{predictor.min_history} past reports, "
                         f"history_length={history_length}")
    return predictor
