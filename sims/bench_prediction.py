#!/usr/bin/env python
"""Prediction NMSE vs UE speed and horizon on TDL (with the Wiener limit), UMi and a ray-traced city

    python sims/bench_prediction.py [--output results/bench_prediction] [--num-sequences 200]
    python sims/bench_prediction.py --report-period 1e-3 --environments rt-florence \
        --gru-model gru-tdl-a --transformer-model transformer-tdl-a --output results/bench_prediction_1ms_rt
    python sims/bench_prediction.py --report-period 1e-3 --environments tdl-a umi rt-florence \
        --transformer-model transformer-tdl-a transformer-multi --output results/bench_prediction_1ms_multi
    python sims/bench_prediction.py --environments rt-florence --time-models doppler retrace \
        --gru-model gru-tdl-a --transformer-model transformer-tdl-a --output results/bench_prediction_rt_retrace/5ms

For every environment and speed: report sequences every ``--report-period``
(default 5 ms), split by the dataset's splits (training sequences fit the AR
and Kalman models), histories of ``--history`` reports (optionally noisy at
``--snr-db``, default 20 dB), horizons up to the largest of ``--horizons``. Predictors:
sample-and-hold, LS AR per delay tap and per antenna-subcarrier, Kalman
AR(p), vector Prony, the nearest-neighbour lookup of training windows, an
optional GRU trained on the training windows (``--gru-steps``) or shipped
ones (``--gru-model``), shipped transformers (``--transformer-model``; each
shipped model is a row named by the model), and
on TDL the Wiener predictor with the true Jakes correlation, whose
closed-form NMSE is the reference limit (distance in dB per predictor).
``--predictors`` keeps only the named ones (e.g. ``hold wiener-jakes
gru-tdl-a transformer-tdl-a``; the limit is always computed). The cost of
each predictor is the wall-clock time of one call on all test windows
(after a warm-up call), per window (one UE's ``num_bs_ant x fft_size``
report). Writes ``results.csv`` and ``nmse.png``.

Environments: any registered one (see
:func:`~lasco_sionna.channels.list_environments`). Stochastic ones (TDL,
CDL, UMi/UMa) evolve through Sionna's time sampling; ray-traced cities
(``rt-florence``, ``rt-san_francisco``, ...) by each of ``--time-models``
(every UE at the given speed in a random horizontal direction):
``doppler`` (default), the Doppler shifts of the paths traced at the start
over *frozen geometry*, the right model while a sequence spans a few
wavelengths (with 1 ms reports a 16-report sequence at 120 km/h covers
0.53 m, 6 wavelengths at 3.5 GHz); ``retrace``, the scene traced anew at
every report along the UE's straight trajectory (one path-solver pass per
report: 16 times the tracing of ``doppler``; a UE whose line would cross a
wall walks another way). ``ue_travel_wavelengths`` in ``results.csv`` is
the distance per sequence; a warning is printed for Doppler over frozen
geometry beyond :data:`MAX_FROZEN_WAVELENGTHS`. There is no Wiener limit
off TDL (no closed-form correlation).
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import matplotlib  # noqa: E402
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from lasco_sionna.channels import (BSArray, Numerology,  # noqa: E402
                                   list_environments)
from lasco_sionna.channels.raytraced import TIME_MODELS  # noqa: E402
from lasco_sionna.prediction import (ARPredictor, GRUPredictor,  # noqa: E402
                                     KalmanPredictor, LookupPredictor,
                                     PronyPredictor, SampleAndHold,
                                     WienerPredictor, distance_to_limit,
                                     entry_windows, environment_at_speed,
                                     evaluate_predictors,
                                     get_predictor, jakes_correlation,
                                     noisy_reports,
                                     report_sequences, sliding_windows,
                                     train_predictor, wiener_nmse)
from lasco_sionna.utils.io import atomic_path  # noqa: E402

#: Longest UE travel per sequence [wavelengths] for which Doppler over
#: frozen geometry (ray-traced environments) is taken as valid
MAX_FROZEN_WAVELENGTHS = 20.0

SPEED_OF_LIGHT = 299792458.0


def travel_wavelengths(speed_kmh, num_reports, report_period,
                       carrier_frequency):
    """UE travel over one sequence of ``num_reports`` reports [wavelengths]"""
    return (speed_kmh / 3.6 * num_reports * report_period
            * carrier_frequency / SPEED_OF_LIGHT)


#: ``time_model`` column of ``results.csv`` per ``--time-models`` value
#: (stochastic environments: "stochastic time sampling")
TIME_MODEL_LABELS = {"doppler": "doppler over frozen geometry",
                     "retrace": "re-traced trajectory"}


def bench_point(args, env_name, speed, time_model=None):
    """Rows of one environment, speed and time model (`None`: stochastic)"""
    env = environment_at_speed(env_name, speed, time_model=time_model,
                               numerology=Numerology(fft_size=args.fft_size),
                               bs_array=BSArray(num_cols=args.num_bs_ant),
                               seed=args.seed)
    L, H = args.history, max(args.horizons)
    num_reports = L + H + args.extra_reports
    travel = travel_wavelengths(speed, num_reports, args.report_period,
                                env.numerology.carrier_frequency)
    if time_model == "doppler" and travel > MAX_FROZEN_WAVELENGTHS:
        print(f"warning: {env_name} at {speed} km/h: the UE travels "
              f"{travel:.0f} wavelengths per sequence; Doppler over frozen "
              f"geometry is meant for <= {MAX_FROZEN_WAVELENGTHS:.0f}",
              flush=True)
    start = time.perf_counter()
    ds = report_sequences(env, args.num_sequences, num_reports,
                          args.report_period)
    print(f"{env_name} at {speed:g} km/h"
          + (f" ({time_model})" if time_model else "")
          + f": {len(ds)} report sequences in "
          f"{time.perf_counter() - start:.0f} s", flush=True)
    clean = ds.split("train").as_matrix(time_step=None)
    test = ds.split("test").as_matrix(time_step=None)
    no = 0.0
    train = clean
    hist, fut = sliding_windows(test, L, H)
    if args.snr_db >= 0:
        # Unit mean power per UE: the noise variance is 10^(-snr/10)
        train = noisy_reports(clean, args.snr_db, seed=args.seed)[0].numpy()
        hist = noisy_reports(hist, args.snr_db, seed=args.seed + 1)[0].numpy()
        no = 10 ** (-args.snr_db / 10)
    wanted = (lambda name: True) if args.predictors is None else \
        (lambda name: name in args.predictors)
    makers = {
        "hold": lambda: SampleAndHold(H),
        "ar-tap": lambda: ARPredictor(train, args.order, H, mode="tap"),
        "ar-element": lambda: ARPredictor(train, args.order, H,
                                          mode="element"),
        "kalman": lambda: KalmanPredictor(train, args.order, L, H,
                                          noise_variance=no),
        "prony": lambda: PronyPredictor(args.prony_modes, H),
        "lookup": lambda: LookupPredictor(train, L, H,
                                          num_atoms=args.lookup_atoms,
                                          seed=args.seed),
    }
    if args.gru_steps > 0:
        makers["gru"] = lambda: train_gru(args, clean, L, H, no)
    for kind, models in (("gru", args.gru_model),
                         ("transformer", args.transformer_model)):
        for model in models or ():
            makers[model] = lambda spec={"name": kind, "model": model}: \
                get_predictor(spec, L, H)
    limit = None
    if hasattr(env, "max_doppler"):
        rho = jakes_correlation(np.arange(L + H), env.max_doppler,
                                args.report_period)
        makers["wiener-jakes"] = lambda: WienerPredictor(rho, L, H,
                                                         noise_variance=no)
        limit = wiener_nmse(rho, L, H, noise_variance=no)
    unknown = set(args.predictors or ()) - set(makers) - {"wiener-jakes"}
    if unknown:
        raise ValueError(f"unknown --predictors {sorted(unknown)}; valid: "
                         f"{sorted(set(makers) | {'wiener-jakes'})}")
    predictors = {name: make() for name, make in makers.items()
                  if wanted(name)}
    nmse = evaluate_predictors(predictors, hist, fut)
    dist = distance_to_limit(nmse, limit) if limit is not None else {}
    cost = {}
    for name, predictor in predictors.items():
        predictor(hist[:2])
        start = time.perf_counter()
        np.asarray(predictor(hist))
        cost[name] = (time.perf_counter() - start) / len(hist)
    rows = []
    for name, v in nmse.items():
        for h in args.horizons:
            rows.append({
                "environment": env_name, "speed_kmh": speed, "horizon": h,
                "predictor": name, "nmse_db": 10 * np.log10(v[h - 1]),
                "wiener_limit_db": np.nan if limit is None
                else 10 * np.log10(limit[h - 1]),
                "distance_to_limit_db": dist[name][h - 1] if dist else np.nan,
                "us_per_prediction": 1e6 * cost[name],
                "report_period_ms": 1e3 * args.report_period,
                "snr_db": args.snr_db if args.snr_db >= 0 else np.inf,
                "num_test_windows": len(hist),
                "time_model": "stochastic time sampling"
                if time_model is None
                else TIME_MODEL_LABELS.get(time_model, time_model),
                "ue_travel_wavelengths": travel})
    return rows


def train_gru(args, clean, L, H, no):
    """A GRU trained on ``--gru-entries`` entry windows of the training UEs

    The GRU treats every antenna-subcarrier entry as one sequence (shared
    weights), so it trains on single-entry windows (noisy histories at
    ``no``, clean futures); a tenth of them validate.
    """
    hist, fut = sliding_windows(clean, L, H)
    if no > 0:
        hist = noisy_reports(hist, args.snr_db, seed=args.seed + 2)[0].numpy()
    hist, fut = entry_windows(hist), entry_windows(fut)
    rng = np.random.default_rng(args.seed)
    pick = rng.permutation(len(hist))[:args.gru_entries]
    hist, fut = hist[pick], fut[pick]
    n_val = max(1, len(hist) // 10)
    model = GRUPredictor(H, units=args.gru_units)
    train_predictor(model, hist[n_val:], fut[n_val:], hist[:n_val],
                    fut[:n_val], steps=args.gru_steps, batch_size=256,
                    learning_rate=3e-3, eval_every=max(1, args.gru_steps // 10),
                    seed=args.seed)
    return model


def plot(df, path):
    """NMSE vs speed, one panel per environment, time model and horizon"""
    envs = df[["environment", "time_model"]].drop_duplicates().values
    horizons = sorted(df.horizon.unique())
    fig, axes = plt.subplots(len(envs), len(horizons), squeeze=False,
                             figsize=(4 * len(horizons), 3.2 * len(envs)),
                             sharey=True)
    for i, (env, model) in enumerate(envs):
        for j, h in enumerate(horizons):
            ax = axes[i, j]
            d = df[(df.environment == env) & (df.time_model == model)
                   & (df.horizon == h)]
            for name, g in d.groupby("predictor", sort=False):
                ax.plot(g.speed_kmh, g.nmse_db, "o-", label=name)
            lim = d.drop_duplicates("speed_kmh")
            if lim.wiener_limit_db.notna().any():
                ax.plot(lim.speed_kmh, lim.wiener_limit_db, "k--",
                        label="Wiener limit (closed form)")
            ax.set_xscale("log")
            ax.set_title(f"{env}, horizon {h}" + (
                "" if model == "stochastic time sampling" else f"\n{model}"),
                fontsize=9)
            ax.set_xlabel("UE speed [km/h]")
            ax.grid(True, alpha=0.3)
        axes[i, 0].set_ylabel("prediction NMSE [dB]")
    axes[0, -1].legend(fontsize=7)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=120)


def main(argv=None):
    """Command line"""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--output", default="results/bench_prediction")
    p.add_argument("--environments", nargs="+", default=["tdl-a", "umi"])
    p.add_argument("--time-models", nargs="+", default=["doppler"],
                   choices=TIME_MODELS,
                   help="time models of ray-traced environments: Doppler "
                        "over frozen geometry and/or re-tracing along "
                        "straight trajectories")
    p.add_argument("--speeds", nargs="+", type=float,
                   default=[3.0, 30.0, 60.0, 120.0])
    p.add_argument("--horizons", nargs="+", type=int, default=[1, 2, 4])
    p.add_argument("--report-period", type=float, default=5e-3)
    p.add_argument("--history", type=int, default=8)
    p.add_argument("--extra-reports", type=int, default=4,
                   help="reports per sequence beyond history + horizon")
    p.add_argument("--order", type=int, default=4)
    p.add_argument("--prony-modes", type=int, default=2)
    p.add_argument("--num-sequences", type=int, default=200)
    p.add_argument("--fft-size", type=int, default=64)
    p.add_argument("--num-bs-ant", type=int, default=32)
    p.add_argument("--snr-db", type=float, default=20.0,
                   help="measurement SNR of the histories; a negative value: noise-free")
    p.add_argument("--lookup-atoms", type=int, default=4096,
                   help="training windows stored by the lookup predictor")
    p.add_argument("--gru-steps", type=int, default=0,
                   help="train a GRU per point for this many steps (0: no GRU)")
    p.add_argument("--gru-model", nargs="+", default=None,
                   help="shipped trained GRUs to evaluate, e.g. gru-tdl-a")
    p.add_argument("--transformer-model", nargs="+", default=None,
                   help="shipped trained transformers to evaluate, e.g. "
                        "transformer-tdl-a transformer-multi")
    p.add_argument("--predictors", nargs="+", default=None,
                   help="evaluate only these predictors (names as in "
                        "results.csv); default: all")
    p.add_argument("--gru-units", type=int, default=32)
    p.add_argument("--gru-entries", type=int, default=20000,
                   help="antenna-subcarrier windows the GRU trains on")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.report_period <= 0:
        p.error(f"--report-period must be > 0, got {args.report_period}")
    raytraced = list_environments(kind="raytraced")
    rows = [r for env in args.environments
            for model in (args.time_models if env in raytraced else [None])
            for v in args.speeds
            for r in bench_point(args, env, v, model)]
    df = pd.DataFrame(rows)
    os.makedirs(args.output, exist_ok=True)
    with atomic_path(os.path.join(args.output, "results.csv")) as tmp:
        df.to_csv(tmp, index=False, lineterminator="\n")
    plot(df, os.path.join(args.output, "nmse.png"))
    with pd.option_context("display.width", 160, "display.max_rows", 500):
        print(df.pivot_table(index=["environment", "time_model",
                                    "predictor"],
                             columns=["speed_kmh", "horizon"],
                             values="nmse_db").round(1))
    return df


if __name__ == "__main__":
    main()
