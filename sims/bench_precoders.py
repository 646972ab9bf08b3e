#!/usr/bin/env python
"""Precoders on the same channels: sum-rate, min-rate and CPU time

    python sims/bench_precoders.py --out results/bench_precoders            # small default
    python sims/bench_precoders.py --envs umi-nlos cdl-c rt-florence --users 4 8 \\
        --drops 200 --subcarriers 16 --timing-matrices 1000 --out results/bench_precoders_200x16

For every environment and number of users ``K``, ``drops`` groups of ``K``
UEs of the environment's dataset (32-antenna BS, unit mean gain per UE) on
``subcarriers`` evenly spaced subcarriers are precoded by MRT, ZF, RZF,
WMMSE and max-min with perfect CSI, at each SNR ``K / no`` (total power
``K`` per RE, the package's convention). Sum-rate and min-rate are means over
drops and subcarriers of ``sum_k`` / ``min_k log2(1 + SINR_k)`` on the
actual channel. Checks: WMMSE sum-rate >= ZF's and RZF's on every channel
(``wmmse_ge_zf_rzf``), max-min SINR spread (``sinr_spread``).

Timing: CPU time for ``timing_matrices`` channel matrices (``K`` = the
largest, one SNR) of the batched TensorFlow WMMSE and max-min (graph mode,
after a warm-up call) and of a straightforward per-matrix NumPy
implementation of the same algorithms with the same iterations and one
(RZF) start; reported per 1,000 matrices, and the speed-up.

Writes ``rates.csv`` (after every finished (environment, K, SNR) point; a
run started again with the same ``--out`` and setup skips the finished
points), ``timing.csv`` and ``rates.png`` under ``--out``.
"""

import argparse
import functools
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import matplotlib  # noqa: E402
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import tensorflow as tf  # noqa: E402
from sionna.phy.mimo import cbf_precoding_matrix, rzf_precoding_matrix  # noqa: E402

from lasco_sionna.channels import build_dataset, get_environment  # noqa: E402
from lasco_sionna.precoding import (downlink_sinr,  # noqa: E402
                                    maxmin_precoding_matrix,
                                    wmmse_precoding_matrix)
from lasco_sionna.utils.io import atomic_path  # noqa: E402

PRECODERS = ("mrt", "zf", "rzf", "wmmse", "maxmin")


@functools.lru_cache(maxsize=4)
def ue_channels(env_name, num_ues, seed):
    """[num_ues, Nt, fft_size] complex64 channels of one environment (one cached dataset)"""
    env = get_environment(env_name)
    return build_dataset(env, num_ues, seed=seed, progress=False).as_matrix()


def channels(env_name, num_users, drops, subcarriers, seed, num_ues=None):
    """[drops, subcarriers, K, Nt] complex128 channels of one environment

    The first ``drops * K`` UEs of a dataset of ``num_ues`` UEs (default
    ``drops * K``), so that every ``K`` and the timing draw one dataset
    (a ray-traced city is traced once)
    """
    num_ues = drops * num_users if num_ues is None else num_ues
    if num_ues < drops * num_users:
        raise ValueError(f"{drops} drops of {num_users} UEs need "
                         f"{drops * num_users} UEs, the dataset has {num_ues}")
    # [drops * K, Nt, fft_size]
    h = ue_channels(env_name, num_ues, seed)
    sc = np.linspace(0, h.shape[-1] - 1, subcarriers).round().astype(int)
    # [drops, K, Nt, subcarriers]
    h = h[: drops * num_users, :, sc].reshape(drops, num_users,
                                               h.shape[1], subcarriers)
    # [drops, subcarriers, K, Nt]
    return np.transpose(h, [0, 3, 1, 2]).astype(np.complex128)


@tf.function
def _wmmse(h, no, power):
    return wmmse_precoding_matrix(h, no, power, precision="double")


@tf.function
def _maxmin(h, no, power):
    return maxmin_precoding_matrix(h, no, power, precision="double")


def precode(name, h, no, power):
    """Precoding matrices [..., Nt, K] (double precision)

    WMMSE and max-min run in graph mode (their iterations are
    ``tf.while_loop`` s, which eager mode executes op by op)"""
    if name == "mrt":
        return cbf_precoding_matrix(h, precision="double")
    if name in ("zf", "rzf"):
        alpha = 0.0 if name == "zf" else no * h.shape[-2] / power
        return rzf_precoding_matrix(h, alpha * np.ones(h.shape[:-2]),
                                    precision="double")
    fn = _wmmse if name == "wmmse" else _maxmin
    return fn(tf.constant(h), tf.constant(no, tf.float64),
              tf.constant(power, tf.float64))


# ---------------------------------------------------------------------------
# Straightforward per-matrix NumPy references (timing only)

def numpy_wmmse(h, no, power, num_iterations):
    """Shi et al. WMMSE on one [K, Nt] matrix, RZF start, bisection on mu"""
    k, nt = h.shape
    v = h.conj().T @ np.linalg.inv(h @ h.conj().T + no * k / power * np.eye(k))
    v *= np.sqrt(power / np.sum(np.abs(v) ** 2))
    for _ in range(num_iterations):
        r = h @ v
        tot = np.sum(np.abs(r) ** 2, axis=1) + no
        u = np.diag(r) / tot
        w = 1.0 / (1.0 - np.abs(np.diag(r)) ** 2 / tot)
        a = (h.conj().T * (w * np.abs(u) ** 2)) @ h
        b = h.conj().T * (w * u)
        lam, q = np.linalg.eigh(a)
        c2 = np.sum(np.abs(q.conj().T @ b) ** 2, axis=1)
        lo, hi = 0.0, np.sqrt(c2.sum() / power)
        for _ in range(64):
            mu = (lo + hi) / 2
            if np.sum(c2 / np.maximum(lam + mu, 1e-300) ** 2) > power:
                lo = mu
            else:
                hi = mu
        v = np.linalg.solve(a + mu * np.eye(nt), b)
        v *= np.sqrt(power / np.sum(np.abs(v) ** 2))
    return v


def numpy_maxmin(h, no, power, num_iterations):
    """Max-min SINR by the normalised uplink fixed point on one [K, Nt] matrix"""
    k, nt = h.shape
    q = np.full(k, power / k)
    for _ in range(num_iterations):
        sigma = no * np.eye(nt) + (h.conj().T * q) @ h
        gamma = np.real(np.einsum("kn,nk->k", h,
                                  np.linalg.solve(sigma, h.conj().T)))
        interference = 1.0 / gamma - q
        q = power * interference / interference.sum()
    sigma = no * np.eye(nt) + (h.conj().T * q) @ h
    t = np.linalg.solve(sigma, h.conj().T)
    t /= np.linalg.norm(t, axis=0)
    a = np.abs(h @ t) ** 2
    gamma = np.real(np.einsum("kn,nk->k", h,
                              np.linalg.solve(sigma, h.conj().T)))
    sinr_ul = q * gamma / (1 - q * gamma)
    target = np.exp(np.mean(np.log(sinr_ul)))
    lhs = -a.copy()
    np.fill_diagonal(lhs, np.diag(a) / target)
    p = np.maximum(np.linalg.solve(lhs, no * np.ones(k)), 0)
    return t * np.sqrt(power * p / p.sum())


def cpu_seconds(fn):
    t0 = time.process_time()
    out = fn()
    return time.process_time() - t0, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--envs", nargs="+", default=["umi-nlos", "cdl-c"])
    ap.add_argument("--users", nargs="+", type=int, default=[4, 8])
    ap.add_argument("--snr-db", nargs="+", type=float,
                    default=[-5.0, 5.0, 15.0, 25.0])
    ap.add_argument("--drops", type=int, default=20)
    ap.add_argument("--subcarriers", type=int, default=4)
    ap.add_argument("--timing-matrices", type=int, default=200)
    ap.add_argument("--timing-iterations", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default="results/bench_precoders")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)

    # One dataset per environment for every K and the timing
    n = args.timing_matrices
    num_ues = max(args.drops, -(-n // args.subcarriers)) * max(args.users)
    rates_csv = os.path.join(args.out, "rates.csv")
    setup = {"drops": args.drops, "subcarriers": args.subcarriers,
             "seed": args.seed, "num_ues": num_ues}
    rows = []
    if os.path.exists(rates_csv):
        # Resume: keep the finished (environment, K, SNR) points of the same setup
        old = pd.read_csv(rates_csv)
        if any(c not in old or (old[c] != v).any()
               for c, v in setup.items()):
            raise ValueError(f"{rates_csv} holds a run with another setup "
                             f"than {setup}: choose another --out")
        rows = old.to_dict("records")
    done = {(r["environment"], r["num_users"], r["snr_db"]) for r in rows}
    for env_name in args.envs:
        for k in args.users:
            if all((env_name, k, s) in done for s in args.snr_db):
                continue
            h = channels(env_name, k, args.drops, args.subcarriers, args.seed,
                         num_ues)
            power = float(k)
            for snr_db in args.snr_db:
                if (env_name, k, snr_db) in done:
                    continue
                no = power / 10 ** (snr_db / 10)
                rates = {}
                for name in PRECODERS:
                    t0 = time.time()
                    g = precode(name, h, no, power)
                    sinr = downlink_sinr(tf.constant(h), g, no).numpy()
                    rates[name] = np.log2(1 + sinr)
                    rows.append({
                        "environment": env_name, "num_users": k,
                        "snr_db": snr_db, "precoder": name,
                        "sum_rate": rates[name].sum(-1).mean(),
                        "min_rate": rates[name].min(-1).mean(),
                        "sinr_spread": float(np.median(
                            sinr.max(-1) / np.maximum(sinr.min(-1), 1e-300)
                            - 1)),
                        "seconds": time.time() - t0, **setup})
                s_w = rates["wmmse"].sum(-1)
                ok = all((s_w >= rates[n].sum(-1) - 1e-9).all()
                         for n in ("zf", "rzf"))
                for r in rows[-len(PRECODERS):]:
                    r["wmmse_ge_zf_rzf"] = ok
                print(env_name, k, snr_db, {n: round(r["sum_rate"], 2)
                                            for n, r in zip(
                                                PRECODERS,
                                                rows[-len(PRECODERS):])},
                      "wmmse>=zf/rzf:", ok, flush=True)
                # Every finished point at once (atomic), to resume from
                with atomic_path(rates_csv) as p:
                    pd.DataFrame(rows).to_csv(p, index=False,
                                              lineterminator="\n")
    df = pd.DataFrame(rows)
    df = df[df.environment.isin(args.envs) & df.num_users.isin(args.users)
            & df.snr_db.isin(args.snr_db)]

    # Timing on the last environment, the largest K, the middle SNR
    k = max(args.users)
    drops = -(-n // args.subcarriers)
    h = channels(args.envs[-1], k, drops, args.subcarriers, args.seed,
                 num_ues)
    # [drops * subcarriers, K, Nt]
    h = h.reshape(-1, k, h.shape[-1])[:n]
    power, no = float(k), float(k) / 10 ** (10.0 / 10)
    it = args.timing_iterations
    wm = tf.function(lambda x: wmmse_precoding_matrix(
        x, no, power, num_iterations=it, tol=0.0, inits=("rzf",),
        precision="double"))
    mm = tf.function(lambda x: maxmin_precoding_matrix(
        x, no, power, num_iterations=it, tol=0.0, precision="double"))
    ht = tf.constant(h)
    timing = []
    for name, tf_fn, np_fn in (("wmmse", wm, numpy_wmmse),
                               ("maxmin", mm, numpy_maxmin)):
        tf_fn(ht[:2])        # trace and warm up (other batch size: retrace)
        tf_fn(ht)
        t_tf, g_tf = cpu_seconds(lambda fn=tf_fn: fn(ht).numpy())
        t_np, g_np = cpu_seconds(
            lambda fn=np_fn: np.stack([fn(x, no, power, it) for x in h]))
        s_tf = np.log2(1 + downlink_sinr(ht, g_tf, no).numpy())
        s_np = np.log2(1 + downlink_sinr(ht, g_np, no).numpy())
        timing.append({"algorithm": name, "num_matrices": n, "num_users": k,
                       "num_iterations": it,
                       "tf_cpu_s_per_1000": 1000 * t_tf / n,
                       "numpy_cpu_s_per_1000": 1000 * t_np / n,
                       "speedup": t_np / t_tf,
                       "tf_sum_rate": s_tf.sum(-1).mean(),
                       "numpy_sum_rate": s_np.sum(-1).mean(),
                       "tf_min_rate": s_tf.min(-1).mean(),
                       "numpy_min_rate": s_np.min(-1).mean()})
        print(timing[-1], flush=True)
    with atomic_path(os.path.join(args.out, "timing.csv")) as p:
        pd.DataFrame(timing).to_csv(p, index=False)

    groups = list(df.groupby(["environment", "num_users"]))
    fig, axes = plt.subplots(2, len(groups), figsize=(4 * len(groups), 7),
                             squeeze=False)
    for j, ((env_name, k), d) in enumerate(groups):
        for name in PRECODERS:
            e = d[d.precoder == name]
            axes[0, j].plot(e.snr_db, e.sum_rate, "o-", label=name)
            axes[1, j].plot(e.snr_db, e.min_rate, "o-", label=name)
        axes[0, j].set_title(f"{env_name}, K={k}")
        axes[1, j].set_xlabel("SNR K/no [dB]")
    axes[0, 0].set_ylabel("sum-rate [bit/s/Hz]")
    axes[1, 0].set_ylabel("min-rate [bit/s/Hz]")
    axes[0, 0].legend()
    fig.tight_layout()
    with atomic_path(os.path.join(args.out, "rates.png")) as p:
        fig.savefig(p, format="png", dpi=100)
    print(df.pivot_table(index=["environment", "num_users", "snr_db"],
                         columns="precoder",
                         values=["sum_rate", "min_rate"]).round(2)
          .to_string())


if __name__ == "__main__":
    main()
