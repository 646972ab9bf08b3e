#!/usr/bin/env python
"""Train a GRU or transformer channel predictor on one or several environments' report sequences

    python sims/train_predictor.py sims/configs/predictor_tiny.yaml [--output DIR]
    python sims/train_predictor.py sims/configs/gru_tdl_a.yaml --ship           # the shipped GRU
    python sims/train_predictor.py sims/configs/transformer_tdl_a.yaml --ship   # the shipped transformer
    python sims/train_predictor.py sims/configs/transformer_multi.yaml --ship   # across environments

The config names the environment (registry name, optional ``params``,
``numerology``, ``bs_array``) or, instead, ``environments``: a list of
registry names or ``{name: ..., **params}`` dicts whose training and
validation windows are pooled in equal numbers per environment (see
:func:`pooled_environments`; ``numerology`` and ``bs_array`` are shared),
the UE speed [km/h] (``speed_kmh``, or a list
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
of the cost; with ``environments``, ``N // len(environments)`` from each).

Training is resumable: the state is checkpointed at every evaluation
(``checkpoint.npz`` in the output directory, atomic writes), a killed run
started again continues where it stopped with the same result, and
``--max-minutes M`` stops (after checkpointing) once ``M`` minutes have
passed, to be resumed by the same command. Writes ``log.csv`` (validation
NMSE over training), ``result.json`` (test NMSE per step ahead and speed of
the model and of sample-and-hold; with ``environments``, per environment
and speed, on each environment's test UEs), ``<name>.weights.h5`` and ``<name>.json``
(the record :func:`~lasco_sionna.prediction.load_predictor` reads: model,
its config, history length, training config, test NMSE, SHA-256 of the
weights) to ``--output`` (default ``results/predictor/<name>``); ``--ship``
also copies both into ``lasco_sionna/prediction/weights/``. Seeded.
``predictor_tiny.yaml``, ``transformer_tiny.yaml`` and
``transformer_multi_tiny.yaml`` are smoke configurations for tests.
"""

import argparse
import json
import os
import shutil

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import yaml  # noqa: E402

from lasco_sionna.channels import (BSArray, Numerology,  # noqa: E402
                                   list_environments)
from lasco_sionna.models import TrainingStopped  # noqa: E402
from lasco_sionna.prediction import (SampleAndHold,  # noqa: E402
                                     entry_windows, environment_at_speed,
                                     evaluate_predictors,
                                     noisy_reports, report_sequences,
                                     sliding_windows, train_predictor)
from lasco_sionna.prediction.pretrained import MODELS, WEIGHTS_DIR  # noqa: E402
from lasco_sionna.utils.io import file_sha256  # noqa: E402
from lasco_sionna.utils.seeds import derive_seed  # noqa: E402
from lasco_sionna.utils.validation import (check_choice,  # noqa: E402
                                           split_spec)

KEYS = {"name", "model", "environment", "environments", "params",
        "numerology", "bs_array",
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


def environment_specs(cfg):
    """``{label: (registry name, params)}`` of the config's ``environment`` or ``environments``

    ``environment`` (with the optional ``params``) is one environment;
    ``environments`` a non-empty list of registry names or ``{name: ...,
    **params}`` dicts, each labelled by its name (so listed once).
    """
    if ("environment" in cfg) == ("environments" in cfg):
        raise ValueError("the config needs exactly one of `environment` and "
                         "`environments`, got "
                         + ("both" if "environment" in cfg else "neither"))
    if "environment" in cfg:
        return {cfg["environment"]: (cfg["environment"],
                                     cfg.get("params", {}))}
    specs = cfg["environments"]
    if "params" in cfg:
        raise ValueError("`params` applies to `environment` only; with "
                         "`environments` give each its parameters: "
                         "{name: ..., **params}")
    if not isinstance(specs, list) or not specs:
        raise ValueError("`environments` must be a non-empty list of "
                         f"environment specs, got {specs!r}")
    out = {}
    for spec in specs:
        name, params = split_spec("environment", spec)
        check_choice("environments", name, list(list_environments()))
        if name in out:
            raise ValueError(f"environment {name!r} is listed twice in "
                             "`environments`")
        out[name] = (name, params)
    return out


def speed_datasets(cfg, seed, name, params):
    """``{speed_kmh: report-sequence dataset}`` of environment ``name`` (with ``params``) at the config's speeds"""
    if ("speed_kmh" in cfg) == ("speeds_kmh" in cfg):
        raise ValueError("the config needs exactly one of `speed_kmh` and "
                         "`speeds_kmh`")
    speeds = cfg["speeds_kmh"] if "speeds_kmh" in cfg else [cfg["speed_kmh"]]
    out = {}
    for speed in speeds:
        env = environment_at_speed(
            name, speed,
            numerology=Numerology(**cfg.get("numerology", {})),
            bs_array=BSArray(**cfg.get("bs_array", {})), seed=seed,
            **params)
        out[float(speed)] = report_sequences(
            env, cfg["num_sequences"], cfg["num_reports"],
            cfg.get("report_period", 5e-3))
    return out


def environment_datasets(cfg, seed):
    """``{label: {speed_kmh: report-sequence dataset}}`` of the config's environments (see :func:`environment_specs`)"""
    return {label: speed_datasets(cfg, seed, name, params)
            for label, (name, params) in environment_specs(cfg).items()}


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


def environment_seed(datasets, label, seed):
    """Seed of environment ``label``'s windows: ``seed`` for a single environment (as before ``environments``), else ``derive_seed(seed, "environment", label)``"""
    if len(datasets) == 1:
        return seed
    return derive_seed(seed, "environment", label)


def pooled_environments(datasets, split, cfg, seed, entries=None):
    # pylint: disable=line-too-long
    r"""History and future windows of ``split`` in equal numbers from every environment

    Every environment contributes :func:`pooled` windows (its speeds
    pooled) drawn with its :func:`environment_seed`. With a single
    environment this is :func:`pooled` itself.

    Input
    -----
    datasets : `dict`
        ``{label: {speed_kmh: dataset}}`` (:func:`environment_datasets`)

    split : "train" | "validation" | "test"
        Split of every dataset

    cfg : `dict`
        Config (history length, horizon, measurement SNR)

    seed : `int`
        Seed of the measurement noise and of the draws

    entries : `None` (default) | `int`
        Single-entry windows in all: ``entries // len(datasets)`` (at least
        1) drawn per environment, fewer if an environment has fewer; `None`:
        every window, which needs the same number from every environment

    Output
    ------
    history : [num, history_length, num_bs_ant, fft_size] | [num, history_length, 1, 1], `np.complex64`
        Noisy past reports, environment after environment

    future : [num, horizon, num_bs_ant, fft_size] | [num, horizon, 1, 1], `np.complex64`
        Clean next reports
    """
    per_env = None if entries is None else max(1, entries // len(datasets))
    parts = [pooled(ds, split, cfg, environment_seed(datasets, label, seed),
                    per_env) for label, ds in datasets.items()]
    counts = [len(h) for h, _ in parts]
    if entries is None and len(set(counts)) > 1:
        raise ValueError(f"the environments {list(datasets)} have "
                         f"{counts} {split} windows; set `entry_windows` to "
                         "draw the same number from each")
    # Single-entry windows come in random order (pooled()): the first num
    # are a random draw; whole windows are all kept (equal counts)
    num = min(counts)
    return (np.concatenate([h[:num] for h, _ in parts]),
            np.concatenate([f[:num] for _, f in parts]))


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
    datasets = environment_datasets(cfg, seed)
    entries = cfg.get("entry_windows")
    train = pooled_environments(datasets, "train", cfg, seed, entries)
    val = pooled_environments(datasets, "validation", cfg, seed + 100,
                              None if entries is None
                              else max(1, entries // 10))
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
    # {label: {speed_kmh: {predictor: NMSE [dB] per step ahead}}}
    nmse = {}
    for label, speeds in datasets.items():
        nmse[label] = {}
        for i, (speed, ds) in enumerate(speeds.items()):
            v = evaluate_predictors(
                {kind: model, "hold": SampleAndHold(cfg["horizon"])},
                *windows(ds, "test", cfg,
                         environment_seed(datasets, label, seed + 200) + i))
            nmse[label][speed] = {k: (10 * np.log10(x)).tolist()
                                  for k, x in v.items()}
    result = {"config": cfg, "best_step": int(best)}
    if "environment" in cfg:
        per_speed = nmse[cfg["environment"]]
        first = per_speed[next(iter(per_speed))]
        result.update({
            "test_nmse_db": first if len(per_speed) == 1 else
            {k: [per_speed[s][k] for s in per_speed] for k in first},
            "test_nmse_db_per_speed": {str(k): v
                                       for k, v in per_speed.items()}})
    else:
        result.update({
            # {label: {predictor: [per speed [per step ahead]]}}
            "test_nmse_db": {label: {k: [v[s][k] for s in v]
                                     for k in next(iter(v.values()))}
                             for label, v in nmse.items()},
            "test_nmse_db_per_environment": {
                label: {str(s): x for s, x in v.items()}
                for label, v in nmse.items()}})
    with open(os.path.join(output, "result.json"), "w",
              encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    record = {"name": cfg["name"], "model": kind,
              "config": model.get_config(),
              "history_length": int(cfg["history_length"]),
              "report_period": float(cfg.get("report_period", 5e-3)),
              "training": cfg, "best_step": int(best),
              **{k: result[k] for k in ("test_nmse_db_per_speed",
                                        "test_nmse_db_per_environment")
                 if k in result},
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
