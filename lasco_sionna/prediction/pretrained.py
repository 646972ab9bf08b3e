#
# SPDX-License-Identifier: Apache-2.0
#
"""Trained predictors shipped with the package (weights trained by ``sims/train_predictor.py``)"""

import json
import os

from lasco_sionna.models.pretrained import check_weights_sha256
from lasco_sionna.prediction.gru import GRUPredictor
from lasco_sionna.prediction.transformer import TransformerPredictor

#: Directory of the shipped ``<name>.weights.h5`` + ``<name>.json`` files
WEIGHTS_DIR = os.path.join(os.path.dirname(__file__), "weights")

#: Trainable predictor classes by the ``model`` field of a record
MODELS = {"gru": GRUPredictor, "transformer": TransformerPredictor}


def list_predictors():
    """`list` of `str` : Names of the shipped trained predictors"""
    if not os.path.isdir(WEIGHTS_DIR):
        return []
    return sorted(f[:-5] for f in os.listdir(WEIGHTS_DIR)
                  if f.endswith(".json"))


def load_predictor(name):
    # pylint: disable=line-too-long
    """Load a shipped trained predictor (offline)

    The weights file must match the SHA-256 stored in its record.

    Input
    -----
    name : `str`
        A shipped name (see :func:`list_predictors`), e.g. ``"gru-tdl-a"``,
        ``"transformer-tdl-a"`` or ``"transformer-multi"`` (trained on
        TDL-A, UMi and CDL-C)

    Output
    ------
    predictor : :class:`~lasco_sionna.prediction.GRUPredictor` | :class:`~lasco_sionna.prediction.TransformerPredictor`
        With its trained weights; ``[..., history_length, num_bs_ant,
        fft_size] -> [..., horizon, num_bs_ant, fft_size]``

    record : `dict`
        Training record: ``model`` (``"gru"`` or ``"transformer"``), its
        config, ``history_length``, ``report_period`` [s], training config,
        test NMSE per speed (``test_nmse_db_per_speed``) or per environment
        and speed (``test_nmse_db_per_environment``), ``sha256``
    """
    names = list_predictors()
    if name not in names:
        raise ValueError(f"unknown trained predictor {name!r}; available: "
                         + (", ".join(names) or "none"))
    path = os.path.join(WEIGHTS_DIR, f"{name}.json")
    with open(path, encoding="utf-8") as f:
        record = json.load(f)
    weights = os.path.join(WEIGHTS_DIR, f"{name}.weights.h5")
    check_weights_sha256(record, weights)
    model = MODELS[record.get("model", "gru")].from_config(record["config"])
    model.build((None, record["history_length"], 1, 1))
    model.load_weights(weights)
    return model, record
