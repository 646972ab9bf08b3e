#!/usr/bin/env python
"""Train a GRU channel predictor on one environment's report sequences

    python sims/train_predictor.py sims/configs/predictor_tiny.yaml [--output DIR]

The config names the environment (registry name, optional ``params``,
``numerology``, ``bs_array``), the UE speed [km/h], the report period [s],
the number and length of the report sequences, an optional measurement SNR
[dB] of the histories (``snr_db``), the history length and horizon, the GRU
sizes and the optimisation (``steps``, ``batch_size``, ``learning_rate``,
``eval_every``). Sequences are split by UE (80/10/10 of the dataset's
splits). Writes ``log.csv`` (validation NMSE over training), ``result.json``
(test NMSE per step ahead of the GRU and of sample-and-hold) and
``<name>.weights.h5`` to ``--output`` (default ``results/predictor/<name>``).
Seeded. ``predictor_tiny.yaml`` is a smoke configuration for tests; real
runs need far more data and steps.
"""

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import yaml  # noqa: E402

from lasco_sionna.channels import BSArray, Numerology  # noqa: E402
from lasco_sionna.prediction import (GRUPredictor, SampleAndHold,  # noqa: E402
                                     environment_at_speed, evaluate_predictors,
                                     noisy_reports, report_sequences,
                                     sliding_windows, train_predictor)

KEYS = {"name", "environment", "params", "numerology", "bs_array",
        "speed_kmh", "report_period", "num_sequences", "num_reports",
        "snr_db", "history_length", "horizon", "units", "num_layers",
        "steps", "batch_size", "learning_rate", "eval_every", "seed"}


def windows(ds, split, cfg, seed):
    """(noisy) history and clean future windows of one split"""
    x = ds.split(split).as_matrix(time_step=None)
    hist, fut = sliding_windows(x, cfg["history_length"], cfg["horizon"])
    if cfg.get("snr_db") is not None:
        hist = noisy_reports(hist, cfg["snr_db"], seed=seed)[0].numpy()
    return hist, fut


def run(cfg, output):
    """Train and evaluate; returns the result dict"""
    unknown = set(cfg) - KEYS
    if unknown:
        raise ValueError(f"unknown config keys {sorted(unknown)}; valid: "
                         f"{sorted(KEYS)}")
    seed = int(cfg.get("seed", 0))
    env = environment_at_speed(
        cfg["environment"], cfg["speed_kmh"],
        numerology=Numerology(**cfg.get("numerology", {})),
        bs_array=BSArray(**cfg.get("bs_array", {})), seed=seed,
        **cfg.get("params", {}))
    ds = report_sequences(env, cfg["num_sequences"], cfg["num_reports"],
                          cfg.get("report_period", 5e-3))
    train = windows(ds, "train", cfg, seed)
    val = windows(ds, "validation", cfg, seed + 1)
    test = windows(ds, "test", cfg, seed + 2)
    model = GRUPredictor(cfg["horizon"], units=cfg.get("units", 32),
                         num_layers=cfg.get("num_layers", 1))
    log, best = train_predictor(
        model, *train, *val, steps=cfg["steps"],
        batch_size=cfg.get("batch_size", 16),
        learning_rate=cfg.get("learning_rate", 1e-3),
        eval_every=cfg.get("eval_every", 50), seed=seed)
    os.makedirs(output, exist_ok=True)
    log.to_csv(os.path.join(output, "log.csv"), index=False)
    model.save_weights(os.path.join(output, f"{cfg['name']}.weights.h5"))
    nmse = evaluate_predictors({"gru": model,
                                "hold": SampleAndHold(cfg["horizon"])},
                               *test)
    result = {"config": cfg, "best_step": int(best),
              "test_nmse_db": {k: (10 * np.log10(v)).tolist()
                               for k, v in nmse.items()}}
    with open(os.path.join(output, "result.json"), "w",
              encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    return result


def main(argv=None):
    """Command line"""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("config")
    parser.add_argument("--output", default=None)
    args = parser.parse_args(argv)
    with open(args.config, encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    output = args.output or os.path.join("results", "predictor", cfg["name"])
    result = run(cfg, output)
    print(json.dumps(result["test_nmse_db"], indent=2))


if __name__ == "__main__":
    main()
