#!/usr/bin/env python
"""How far re-traced report sequences drift from Doppler over frozen geometry

    python sims/compare_time_models.py --report-period 1e-3
    python sims/compare_time_models.py --report-period 5e-3

For every speed, loads (or builds: the cache key is the one of
``sims/bench_prediction.py`` with the same options) the report sequences of
a ray-traced environment in both time models, ``doppler`` and ``retrace``.
They start from the same drops in the same directions, except where
re-tracing replaced a UE (no path somewhere along its line, or no clear
line) or gave it another direction (its line crossed a wall): the counts
are printed. For the UEs both datasets share (same start and direction),
each sequence is scaled to unit energy at its first report and the NMSE
between the two time models is printed at some reports (median and 90th
percentile over the UEs, dB): how far the geometry has changed since the
start. Writes nothing.
"""

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

from lasco_sionna.channels import BSArray, Numerology  # noqa: E402
from lasco_sionna.prediction import (environment_at_speed,  # noqa: E402
                                     report_sequences)


def shared_ues(doppler, retrace):
    """Indices of the UEs of two datasets with the same start and velocity

    Input
    -----
    doppler, retrace : :class:`~lasco_sionna.channels.ChannelDataset`
        Datasets with extras ``ue_position`` and ``ue_velocity``

    Output
    ------
    common : `int`
        UEs with the same start in both

    idx_doppler, idx_retrace : [num_shared], `np.int64`
        Sample indices of the UEs with the same start and velocity
    """
    pos_b = {tuple(p): j for j, p in enumerate(retrace.extras["ue_position"])}
    pairs = [(i, pos_b[tuple(p)])
             for i, p in enumerate(doppler.extras["ue_position"])
             if tuple(p) in pos_b]
    same = [(i, j) for i, j in pairs
            if np.array_equal(doppler.extras["ue_velocity"][i],
                              retrace.extras["ue_velocity"][j])]
    idx = np.array(same, np.int64).reshape(-1, 2)
    return len(pairs), idx[:, 0], idx[:, 1]


def drift_nmse(h_a, h_b):
    # pylint: disable=line-too-long
    r"""NMSE between two sets of sequences, each scaled to unit energy at its first report

    Input
    -----
    h_a, h_b : [num_ues, num_reports, num_bs_ant, fft_size], `np.complex`
        Report sequences of the same UEs

    Output
    ------
    nmse : [num_ues, num_reports], `np.float64`
        :math:`\|a_t - b_t\|^2 / \|b_t\|^2` per UE and report (linear)
    """
    def scaled(h):
        # [num_ues, 1, 1, 1]
        energy = np.mean(np.abs(h[:, :1]) ** 2, axis=(1, 2, 3), keepdims=True)
        return h / np.sqrt(energy)
    a, b = scaled(h_a), scaled(h_b)
    return np.sum(np.abs(a - b) ** 2, axis=(2, 3)) / \
        np.sum(np.abs(b) ** 2, axis=(2, 3))


def main(argv=None):
    """Command line"""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--environment", default="rt-florence")
    p.add_argument("--speeds", nargs="+", type=float,
                   default=[3.0, 30.0, 60.0, 120.0])
    p.add_argument("--report-period", type=float, default=5e-3)
    p.add_argument("--num-reports", type=int, default=16)
    p.add_argument("--reports", nargs="+", type=int, default=[1, 4, 8, 15],
                   help="reports (0 = first) at which the NMSE is printed")
    p.add_argument("--num-sequences", type=int, default=200)
    p.add_argument("--fft-size", type=int, default=64)
    p.add_argument("--num-bs-ant", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    if args.report_period <= 0:
        p.error(f"--report-period must be > 0, got {args.report_period}")
    bad = [r for r in args.reports if not 0 <= r < args.num_reports]
    if bad:
        p.error(f"--reports {bad} outside [0, {args.num_reports - 1}]")
    for speed in args.speeds:
        ds = {m: report_sequences(
            environment_at_speed(
                args.environment, speed, time_model=m,
                numerology=Numerology(fft_size=args.fft_size),
                bs_array=BSArray(num_cols=args.num_bs_ant), seed=args.seed),
            args.num_sequences, args.num_reports, args.report_period,
            progress=False) for m in ("doppler", "retrace")}
        common, ia, ib = shared_ues(ds["doppler"], ds["retrace"])
        if len(ia) == 0:
            print(f"{args.environment}, {1e3 * args.report_period:g} ms, "
                  f"{speed:g} km/h: no UE with the same start and direction "
                  "in both time models", flush=True)
            continue
        nmse = drift_nmse(ds["doppler"].as_matrix(time_step=None)[ia],
                          ds["retrace"].as_matrix(time_step=None)[ib])
        travel = speed / 3.6 * (args.num_reports - 1) * args.report_period
        cells = " ".join(
            f"{10 * np.log10(np.median(nmse[:, r])):.0f}/"
            f"{10 * np.log10(np.percentile(nmse[:, r], 90)):.0f}"
            for r in args.reports)
        print(f"{args.environment}, {1e3 * args.report_period:g} ms, "
              f"{speed:g} km/h: travel {travel:.2f} m; same start "
              f"{common}/{args.num_sequences}, same start and direction "
              f"{len(ia)}; doppler vs retrace NMSE at reports "
              f"{'/'.join(map(str, args.reports))} (median/90th pct, dB): "
              f"{cells}", flush=True)


if __name__ == "__main__":
    main()
