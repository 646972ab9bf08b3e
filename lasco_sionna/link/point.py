#
# SPDX-License-Identifier: Apache-2.0
#
"""Sweep evaluator: one point = (environment, CSI path, precoder, Eb/N0) through the link

Referenced by sweep configs as ``lasco_sionna.link.point:evaluate_point``
(or by its older name ``lasco_sionna.sweep.link_point:evaluate_point``).
Links are cached per process by their configuration, so the Eb/N0 points of
one (environment, CSI path, precoder) combination reuse one traced link.

With ``predictor``, the point's CSI path ``csi`` is predicted over the
feedback delay (the ``"predicted"`` path with ``csi`` as its inner path,
:func:`csi_spec`), so CSI paths and predictors are separate grid keys::

    grid:
      csi: [perfect, {name: pretrained, model: lam-cr16}]
      predictor: [hold, {name: ar, order: 4}]     # hold: aged CSI
      feedback_delay: [0, 2]
    fixed: {prediction: {order: compress_then_predict}}   # optional
"""

import functools
import json

import sionna.phy

from lasco_sionna.channels.config import BSArray, Numerology
from lasco_sionna.channels.dataset import DatasetChannel, build_dataset
from lasco_sionna.channels.environment import get_environment
from lasco_sionna.csi.feedback import CSIContext, get_csi_feedback
from lasco_sionna.link.evaluate import evaluate_link
from lasco_sionna.link.system import LinkConfig, MUMIMOOFDMLink
from lasco_sionna.prediction.data import speed_params
from lasco_sionna.utils.validation import split_spec

#: Keys of a point understood by :func:`evaluate_point`, with defaults
DEFAULTS = {
    "environment": None,          # name or {"name": ..., **params}
    "csi": "perfect",             # see lasco_sionna.csi.get_csi_feedback;
                                  # context-aware paths get the point's
                                  # environment, numerology, array ("adapted")
                                  # and feedback_delay ("predicted")
    "precoder": "rzf",            # see lasco_sionna.precoding.get_precoder
    "ebno_db": None,
    "seed": 0,
    "point_id": None,
    "num_users": 4,
    "num_bits_per_symbol": 2,
    "coderate": 0.5,
    "coded": True,
    "predictor": None,            # predictor spec (see lasco_sionna.
                                  # prediction.get_predictor): `csi` is
                                  # then predicted over the feedback delay
                                  # (see csi_spec); None: `csi` as it is
    "prediction": {},             # other fields of that "predicted" path:
                                  # order, history_length (8), snr_db, ...
    "receiver_csi": "perfect",
    "feedback_delay": 0,          # slots; the dataset then holds
                                  # snapshots one slot apart
    "ue_speed_kmh": None,         # all UEs at this speed (None: the
                                  # environment's own)
    "num_snapshots": None,        # snapshots per UE (None: what the CSI
                                  # path and feedback_delay need)
    "numerology": {},             # Numerology fields
    "bs_array": {},               # BSArray fields
    "dataset_size": 1000,         # UE channels drawn per environment
    "dataset_seed": 0,
    "dataset_split": "all",       # "all" | "train" | "validation" | "test"
    "dataset_splits": [0.8, 0.1, 0.1],  # train/validation/test fractions
    "batch_size": 16,
    "max_mc_iter": 10,
    "num_target_block_errors": 100,
    "rate_batches": 2,
    "graph_mode": "graph",
}


@functools.lru_cache(maxsize=8)
def _dataset(env_key, numerology_key, bs_array_key, size, seed, splits,
             num_snapshots):
    name, params = split_spec("environment", json.loads(env_key))
    env = get_environment(name, numerology=Numerology(**json.loads(
        numerology_key)), bs_array=BSArray(**json.loads(bs_array_key)),
        **params)
    # Snapshots one slot apart (the link's feedback delay is in slots)
    rate = 1.0 / env.numerology.slot_duration if num_snapshots > 1 else None
    return build_dataset(env, size, seed=seed, splits=json.loads(splits),
                         num_time_steps=num_snapshots,
                         sampling_frequency=rate, progress=False)


def _environment(p):
    """The point's environment spec, at ``ue_speed_kmh`` if given"""
    if p["ue_speed_kmh"] is None:
        return p["environment"]
    name, params = split_spec("environment", p["environment"])
    return {"name": name, **params, **speed_params(name, p["ue_speed_kmh"])}


@functools.lru_cache(maxsize=16)
def _link(key):
    p = json.loads(key)
    numerology = Numerology(**p["numerology"])
    config = LinkConfig(num_users=p["num_users"],
                        num_bits_per_symbol=p["num_bits_per_symbol"],
                        coderate=p["coderate"], coded=p["coded"],
                        receiver_csi=p["receiver_csi"],
                        feedback_delay=p["feedback_delay"])
    environment = _environment(p)
    context = CSIContext(environment=environment, numerology=p["numerology"],
                         bs_array=p["bs_array"],
                         feedback_delay=p["feedback_delay"])
    csi = get_csi_feedback(csi_spec(p), BSArray(**p["bs_array"]).num_ant,
                           numerology.fft_size, context=context)
    need = csi.history_length + p["feedback_delay"]
    snapshots = need if p["num_snapshots"] is None else p["num_snapshots"]
    if snapshots < need:
        raise ValueError(f"`num_snapshots`={snapshots} is fewer than the "
                         f"{need} the CSI path (history_length="
                         f"{csi.history_length}) and feedback_delay="
                         f"{p['feedback_delay']} need")
    ds = _dataset(json.dumps(environment, sort_keys=True),
                  json.dumps(p["numerology"], sort_keys=True),
                  json.dumps(p["bs_array"], sort_keys=True),
                  p["dataset_size"], p["dataset_seed"],
                  json.dumps(p["dataset_splits"]), snapshots)
    if p["dataset_split"] != "all":
        ds = ds.split(p["dataset_split"])
    channel = DatasetChannel(ds, p["num_users"])
    return MUMIMOOFDMLink(channel, numerology, ds.num_bs_ant, config,
                          csi_feedback=csi, precoder=p["precoder"])


def csi_spec(point):
    """The CSI path spec of a point: ``csi``, predicted with ``predictor`` if given

    Input
    -----
    point : `dict`
        Point keys (see :data:`DEFAULTS`)

    Output
    ------
    spec : `str` | `dict`
        ``csi`` without ``predictor``; else ``{"name": "predicted",
        "inner": csi, "predictor": predictor, **prediction}`` (see
        :func:`~lasco_sionna.prediction.predicted_csi_feedback`; its
        horizon is the point's ``feedback_delay``)
    """
    p = {**DEFAULTS, **point}
    prediction = p["prediction"]
    if not isinstance(prediction, dict):
        raise ValueError("`prediction` must be a mapping of fields of the "
                         f"'predicted' CSI path, got {prediction!r}")
    if p["predictor"] is None:
        if prediction:
            raise ValueError(f"`prediction`={prediction!r} needs a "
                             "`predictor`")
        return p["csi"]
    taken = sorted({"name", "inner", "predictor", "horizon", "environment",
                    "numerology", "bs_array", "precision", "context"}
                   & set(prediction))
    if taken:
        raise ValueError(f"`prediction` cannot set {taken}: the path is the "
                         "point's `csi` predicted by its `predictor` over its "
                         "`feedback_delay`, in the point's environment, "
                         "numerology, array and precision")
    if split_spec("csi", p["csi"])[0] == "predicted":
        raise ValueError("a point with a `predictor` predicts its `csi`, "
                         "which must not itself be 'predicted'")
    return {"name": "predicted", "inner": p["csi"],
            "predictor": p["predictor"], **prediction}


def evaluate_point(point):
    """Simulate one sweep point

    Input
    -----
    point : `dict`
        Keys of :data:`DEFAULTS` (``environment`` and ``ebno_db`` are
        required); unknown keys raise `ValueError`

    Output
    ------
    metrics : `dict`
        ``ber, bler, num_bits, num_blocks, goodput_bps, goodput_bps_per_hz,
        sum_rate, min_rate, sinr_db, csi_nmse_db, feedback_bits_per_user``
    """
    unknown = sorted(set(point) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown point keys {unknown}; allowed: "
                         + ", ".join(sorted(DEFAULTS)))
    p = {**DEFAULTS, **point}
    for required in ("environment", "ebno_db"):
        if p[required] is None:
            raise ValueError(f"sweep point needs `{required}`")
    link_keys = sorted(set(DEFAULTS) - {"ebno_db", "seed", "point_id",
                                        "batch_size", "max_mc_iter",
                                        "num_target_block_errors",
                                        "rate_batches", "graph_mode"})
    link = _link(json.dumps({k: p[k] for k in link_keys}, sort_keys=True))
    sionna.phy.config.seed = int(p["seed"])
    table = evaluate_link(link, [float(p["ebno_db"])],
                          batch_size=int(p["batch_size"]),
                          max_mc_iter=int(p["max_mc_iter"]),
                          num_target_block_errors=int(
                              p["num_target_block_errors"]),
                          rate_batches=int(p["rate_batches"]),
                          graph_mode=p["graph_mode"])
    row = table.iloc[0].to_dict()
    row.pop("ebno_db")
    return row


#: Metrics a point may return (checked against a sweep's plots before it runs)
evaluate_point.metrics = ("ber", "bler", "num_bits", "num_blocks",
                          "goodput_bps", "goodput_bps_per_hz", "sum_rate",
                          "min_rate", "sinr_db", "csi_nmse_db",
                          "feedback_bits_per_user")
