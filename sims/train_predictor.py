#!/usr/bin/env python
"""Train a GRU or transformer channel predictor on one environment's report sequences

    python sims/train_predictor.py sims/configs/predictor_tiny.yaml [--output DIR]
    python sims/train_predictor.py sims/configs/gru_tdl_a.yaml --ship           # the shipped GRU
    python sims/train_predictor.py sims/configs/transformer_tdl_a.yaml --ship   # the shipped transformer

The config names the environment (registry name, optional ``params``,
``numerology``, ``bs_array``), the UE speed [km/h] (``speed_kmh``, or a list
``speeds_kmh`` whose windows are pooled), the report period [s],
the number and length of the report sequences, an optional measurement SNR
[dB] of the histories (``snr_db``), the history length and horizon, the
model (``model``: ``gru`` (default) with ``units``, ``num_layers``, or
``transformer`` with ``d_model``, ``num_heads``, ``num_layers``, ``ff_dim``,
``max_history``) and the optimisation (``steps``, ``batch_size``,
``learning_rate``, ``lr_schedule``: ``constant`` (default) or ``cosine``
decay to 5 % over the steps, ``eval_every``). Sequences are split by UE (80/10/10 of
the dataset's splits). With ``entry_windows: N`` the model trains on ``N``
single antenna-subcarrier windows drawn from the training windows (its
weights are shared by all entries, so this is the same model at a fraction
of the cost).

Training is resumable: the state is checkpointed at every evaluation
(``checkpoint.npz`` in the output directory, atomic writes), a killed run
started again continues where it stopped with the same result, and
``--max-minutes M`` stops (after checkpointing) once ``M`` minutes have
passed, to be resumed by the same command. Writes ``log.csv`` (validation
NMSE over training), ``result.json`` (test NMSE per step ahead and speed of
the model and of sample-and-hold), ``<name>.weights.h5`` and ``<name>.json``
(the record :func:`~lasco_sionna.prediction.load_predictor` reads: model,
its config, history length, training config, test NMSE, SHA-256 of the
weights) to ``--output`` (default ``results/predictor/<name>``); ``--ship``
also copies both into ``lasco_sionna/prediction/weights/``. Seeded.
``predictor_tiny.yaml`` and ``transformer_tiny.yaml`` are smoke
configurations for tests.
"""

import argparse
import json
import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import yaml  # noqa: E402

from lasco_sionna.channels import BSArray, Numerology  # noqa: E402
from lasco_sionna.models import TrainingStopped  # noqa: E402
from lasco_sionna.prediction import (SampleAndHold,  # noqa: E402
                                     entry_windows, environment_at_speed,
                                     evaluate_predictors,
                                     noisy_reports, report_sequences,
                                     sliding_windows, train_predictor)
from lasco_sionna.prediction.pretrained import MODELS, WEIGHTS_DIR  # noqa: E402
from lasco_sionna.utils.io import file_sha256  # noqa: E402

KEYS = {"name", "model", "environment", "params", "numerology", "bs_array",
        "speed_kmh", "speeds_kmh", "report_period", "num_sequences",
        "num_reports", "snr_db", "history_length", "horizon", "units",
        "num_layers", "d_model", "num_heads", "ff_dim", "max_history",
        "steps", "batch_size", "learning_rate", "lr_schedule", "eval_every",
        "entry_windows", "seed"}

#: Config keys of each model (its constructor's arguments besides horizon)
MODEL_KEYS = {"gru": ("units", "num_layers"),
              "transformer": ("d_model", "num_heads", "num_layers", "ff_dim",
                              "max_history")}


def build_model(cfg):
    """The untrained predictor of the config"""
    kind = cfg.get("model", "gru")
    if kind not in MODEL_KEYS:
        raise ValueError(f"unknown model {kind!r}; valid: "
                         f"{sorted(MODEL_KEYS)}")
    other = sorted(k for keys in MODEL_KEYS.values() for k in keys
                   if k in cfg and k not in MODEL_KEYS[kind])
    if other:
        raise ValueError(f"config keys {other} are not parameters of model "
                         f"{kind!r} ({list(MODEL_KEYS[kind])})")
    return MODELS[kind](cfg["horizon"], **{k: cfg[k] for k in
                                           MODEL_KEYS[kind] if k in cfg})


def windows(ds, split, cfg, seed):
    """(noisy) history and clean future windows of one split"""
    x = ds.split(split).as_matrix(time_step=None)
    hist, fut = sliding_windows(x, cfg["history_length"], cfg["horizon"])
    if cfg.get("snr_db") is not None:
        hist = noisy_reports(hist, cfg["snr_db"], seed=seed)[0].numpy()
    return hist, fut


def speed_datasets(cfg, seed):
    """``{speed_kmh: report-sequence dataset}`` of the config's speeds"""
    if ("speed_kmh" in cfg) == ("speeds_kmh" in cfg):
        raise ValueError("the config needs exactly one of `speed_kmh` and "
                         "`speeds_kmh`")
    speeds = cfg["speeds_kmh"] if "speeds_kmh" in cfg else [cfg["speed_kmh"]]
    out = {}
    for speed in speeds:
        env = environment_at_speed(
            cfg["environment"], speed,
            numerology=Numerology(**cfg.get("numerology", {})),
            bs_array=BSArray(**cfg.get("bs_array", {})), seed=seed,
            **cfg.get("params", {}))
        out[float(speed)] = report_sequences(
            env, cfg["num_sequences"], cfg["num_reports"],
            cfg.get("report_period", 5e-3))
    return out


def pooled(datasets, split, cfg, seed, entries=None):
    """History and future windows of ``split`` pooled over speeds; ``entries`` single-entry windows drawn from them"""
    w = [windows(ds, split, cfg, seed + i)
         for i, ds in enumerate(datasets.values())]
    hist = np.concatenate([h for h, _ in w])
    fut = np.concatenate([f for _, f in w])
    if entries is None:
        return hist, fut
    hist, fut = entry_windows(hist), entry_windows(fut)
    pick = np.random.default_rng(seed).permutation(len(hist))[:entries]
    return hist[pick], fut[pick]


def learning_rate(cfg):
    """Constant ``learning_rate``, or with ``lr_schedule: cosine`` a cosine decay to 5 % of it over the steps"""
    lr = cfg.get("learning_rate", 1e-3)
    schedule = cfg.get("lr_schedule", "constant")
    if schedule == "constant":
        return lr
    if schedule == "cosine":
        return keras.optimizers.schedules.CosineDecay(lr, cfg["steps"],
                                                      alpha=0.05)
    raise ValueError(f"unknown lr_schedule {schedule!r}; valid: constant, "
                     "cosine")


def run(cfg, output, ship=False, max_minutes=None):
    """Train (or resume) and evaluate; returns the result dict

    Raises :class:`~lasco_sionna.models.TrainingStopped` after
    ``max_minutes`` (the checkpoint in ``output`` resumes the run).
    """
    unknown = set(cfg) - KEYS
    if unknown:
        raise ValueError(f"unknown config keys {sorted(unknown)}; valid: "
                         f"{sorted(KEYS)}")
    seed = int(cfg.get("seed", 0))
    # Keras initialisers draw their seeds when the layers are constructed
    keras.utils.set_random_seed(seed)
    model = build_model(cfg)
    datasets = speed_datasets(cfg, seed)
    entries = cfg.get("entry_windows")
    train = pooled(datasets, "train", cfg, seed, entries)
    val = pooled(datasets, "validation", cfg, seed + 100,
                 None if entries is None else max(1, entries // 10))
    os.makedirs(output, exist_ok=True)
    log, best = train_predictor(
        model, *train, *val, steps=cfg["steps"],
        batch_size=cfg.get("batch_size", 16),
        learning_rate=learning_rate(cfg),
        eval_every=cfg.get("eval_every", 50), seed=seed,
        checkpoint=os.path.join(output, "checkpoint.npz"),
        fingerprint=json.dumps(cfg, sort_keys=True),
        max_seconds=None if max_minutes is None else 60 * max_minutes)
    log.to_csv(os.path.join(output, "log.csv"), index=False)
    weights = os.path.join(output, f"{cfg['name']}.weights.h5")
    model.save_weights(weights)
    kind = cfg.get("model", "gru")
    nmse = {}
    for i, (speed, ds) in enumerate(datasets.items()):
        v = evaluate_predictors({kind: model,
                                 "hold": SampleAndHold(cfg["horizon"])},
                                *windows(ds, "test", cfg, seed + 200 + i))
        nmse[speed] = {k: (10 * np.log10(x)).tolist() for k, x in v.items()}
    first = nmse[next(iter(nmse))]
    result = {"config": cfg, "best_step": int(best),
              "test_nmse_db": first if len(nmse) == 1 else
              {k: [nmse[s][k] for s in nmse] for k in first},
              "test_nmse_db_per_speed": {str(k): v for k, v in nmse.items()}}
    with open(os.path.join(output, "result.json"), "w",
              encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    record = {"name": cfg["name"], "model": kind,
              "config": model.get_config(),
              "history_length": int(cfg["history_length"]),
              "report_period": float(cfg.get("report_period", 5e-3)),
              "training": cfg, "best_step": int(best),
              "test_nmse_db_per_speed": result["test_nmse_db_per_speed"],
              "sha256": file_sha256(weights)}
    path = os.path.join(output, f"{cfg['name']}.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(record, f, indent=1)
    if ship:
        os.makedirs(WEIGHTS_DIR, exist_ok=True)
        for src in (weights, path):
            shutil.copy(src, WEIGHTS_DIR)
    return result


def main(argv=None):
    """Command line"""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("config")
    parser.add_argument("--output", default=None)
    parser.add_argument("--ship", action="store_true",
                        help="copy the weights and record into the package")
    parser.add_argument("--max-minutes", type=float, default=None,
                        help="stop (after checkpointing) after this wall "
                             "time; the same command resumes")
    args = parser.parse_args(argv)
    with open(args.config, encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    output = args.output or os.path.join("results", "predictor", cfg["name"])
    try:
        result = run(cfg, output, ship=args.ship,
                     max_minutes=args.max_minutes)
    except TrainingStopped as e:
        print(f"{e}; run the same command again to resume")
        return
    print(json.dumps(result["test_nmse_db"], indent=2))


if __name__ == "__main__":
    main()
