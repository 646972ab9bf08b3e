#!/usr/bin/env python
"""Multi-environment inference: one LAM + per-environment SAMs vs one fine-tuned LAM per environment

    python sims/bench_serving.py --lam lam-cr16 --sam sam-ref-cr16 --out results/bench_serving

A batch of users drawn uniformly from ``--num-envs`` environments is decoded

* ``lasco``: by :class:`~lasco_sionna.collab.MultiEnvironmentDecoder` -- the
  LAM runs once on the whole batch, then each environment's proxy SAM and
  per-tap E-LASCO combiner (plus the shared reference SAM) correct its users;
* ``lam_copies``: by one fine-tuned LAM copy per environment, each on its
  own users.

Adapters and copies are the shipped models with perturbed weights: the
cost does not depend on the values. Every model call is a compiled
``tf.function``; the two setups alternate so machine load affects both
alike. Reported: users per second (median over ``--repeats``), the bytes of
the weights each setup holds, and the peak resident memory of a fresh
process that builds the setup and decodes one batch (``--rss`` mode, run as
a subprocess per setup). ``results.csv`` and ``serving.png`` are written
atomically.
"""

import argparse
import json
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import matplotlib  # noqa: E402
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import tensorflow as tf  # noqa: E402

from lasco_sionna.collab import (CollaborationCombiner,  # noqa: E402
                                 MultiEnvironmentDecoder)
from lasco_sionna.collab.finetune import copy_layer  # noqa: E402
from lasco_sionna.models import load_pretrained  # noqa: E402
from lasco_sionna.utils.io import atomic_path  # noqa: E402

SETUPS = ("lasco", "lam_copies")


def compiled(layer):
    """A layer as a compiled function of one `tf.float32` tensor"""
    return tf.function(layer, reduce_retracing=True)


def perturbed_copy(layer, x0, rng):
    """Copy of a layer with every weight perturbed"""
    out = copy_layer(layer, x0[:1])
    out.set_weights([w + 0.01 * rng.standard_normal(w.shape).astype(w.dtype)
                     for w in out.get_weights()])
    return out


def build_setup(setup, lam, ref, num_envs, x0, seed=0):
    """-> (decode(x0, envs), held weight bytes)"""
    rng = np.random.default_rng(seed)
    if setup == "lasco":
        adapters = {}
        for e in range(num_envs):
            comb = CollaborationCombiner(mode="tap", num_ant=lam.num_ant,
                                         num_taps=lam.num_taps)
            proxy = perturbed_copy(ref, x0, rng)
            adapters[e] = (compiled(proxy), comb)
            comb([x0[:1]] * 3)
        serving = MultiEnvironmentDecoder(compiled(lam), compiled(ref),
                                          adapters)
        held = lam.count_params() + ref.count_params() + sum(
            proxy.python_function.count_params() + comb.count_params()
            for proxy, comb in adapters.values())
        return serving, 4 * held
    copies = [perturbed_copy(lam, x0, rng) for _ in range(num_envs)]
    fns = [compiled(c) for c in copies]

    def decode(z, envs):
        out = np.empty(z.shape, np.float32)
        for e, fn in enumerate(fns):
            idx = np.flatnonzero(envs == e)
            if len(idx):
                out[idx] = fn(tf.gather(z, idx)).numpy()
        return out
    return decode, 4 * sum(c.count_params() for c in copies)


def rss_mode(args):
    """Peak resident memory [MiB] of building one setup and decoding once"""
    encoder, lam, _ = load_pretrained(args.lam)
    _, ref, _ = load_pretrained(args.sam)
    x0 = encoder(np.random.default_rng(0).standard_normal(
        [args.rss_batch, 2, encoder.num_ant, encoder.num_taps])
        .astype(np.float32) / 64).numpy()
    decode, held = build_setup(args.rss, lam, ref, args.num_envs, x0)
    envs = np.arange(len(x0)) % args.num_envs
    np.asarray(decode(tf.constant(x0), envs))
    # VmHWM: this process's peak RSS (ru_maxrss would include the parent's
    # peak, which Linux carries over fork + exec)
    with open("/proc/self/status", encoding="ascii") as f:
        peak = next(int(line.split()[1]) for line in f
                    if line.startswith("VmHWM")) / 1024
    print(json.dumps({"setup": args.rss, "peak_rss_mib": peak,
                      "weight_bytes": held}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lam", default="lam-cr16")
    ap.add_argument("--sam", default="sam-ref-cr16")
    ap.add_argument("--num-envs", type=int, default=4)
    ap.add_argument("--batch-sizes", nargs="+", type=int,
                    default=[16, 64, 256, 1024])
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--out", default="results/bench_serving")
    ap.add_argument("--rss", choices=SETUPS, default=None,
                    help=argparse.SUPPRESS)
    ap.add_argument("--rss-batch", type=int, default=256,
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.num_envs < 1 or args.repeats < 1 or min(args.batch_sizes) < 1:
        ap.error("--num-envs, --repeats and --batch-sizes must be positive, "
                 f"got {args.num_envs}, {args.repeats}, {args.batch_sizes}")
    if args.rss:
        rss_mode(args)
        return

    encoder, lam, _ = load_pretrained(args.lam)
    _, ref, _ = load_pretrained(args.sam)
    rng = np.random.default_rng(1)
    x_big = encoder(rng.standard_normal(
        [max(args.batch_sizes), 2, encoder.num_ant, encoder.num_taps])
        .astype(np.float32) / 64).numpy()
    setups = {s: build_setup(s, lam, ref, args.num_envs, x_big)
              for s in SETUPS}
    rows = []
    for batch in args.batch_sizes:
        z = tf.constant(x_big[:batch])
        envs = rng.integers(0, args.num_envs, batch)
        times = {s: [] for s in SETUPS}
        for rep in range(args.repeats + 2):          # 2 warm-up calls
            for s in SETUPS:
                t0 = time.perf_counter()
                np.asarray(setups[s][0](z, envs))
                if rep >= 2:
                    times[s].append(time.perf_counter() - t0)
        for s in SETUPS:
            rows.append({"setup": s, "batch_size": batch,
                         "num_envs": args.num_envs,
                         "users_per_s": batch / float(np.median(times[s])),
                         "weight_mib": setups[s][1] / 2 ** 20})
            print(rows[-1], flush=True)
    table = pd.DataFrame(rows)
    rss = {}
    for s in SETUPS:
        out = subprocess.run(
            [sys.executable, __file__, "--rss", s, "--lam", args.lam,
             "--sam", args.sam, "--num-envs", str(args.num_envs)],
            capture_output=True, text=True, check=True)
        rss[s] = json.loads(out.stdout.strip().splitlines()[-1])
    table["peak_rss_mib"] = table.setup.map(lambda s: rss[s]["peak_rss_mib"])
    os.makedirs(args.out, exist_ok=True)
    with atomic_path(os.path.join(args.out, "results.csv")) as p:
        table.to_csv(p, index=False)
    fig, ax = plt.subplots(1, 2, figsize=(9, 3.5))
    for s, g in table.groupby("setup"):
        ax[0].plot(g.batch_size, g.users_per_s, "o-", label=s)
    ax[0].set(xscale="log", xlabel="users per batch", ylabel="users / s",
              title=f"{args.num_envs} environments")
    ax[0].legend()
    first = table.drop_duplicates("setup")
    ax[1].bar(first.setup, first.weight_mib, label="weights")
    ax[1].set(ylabel="MiB", title="weights held")
    fig.tight_layout()
    with atomic_path(os.path.join(args.out, "serving.png")) as p:
        fig.savefig(p, format="png", dpi=120)
    print(table.round(2).to_string(index=False))


if __name__ == "__main__":
    main()
