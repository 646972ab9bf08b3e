#!/usr/bin/env python
"""Link throughput: lasco-sionna's MU-MIMO OFDM link vs a plain Sionna RZF link

Both links simulate the same configuration (CDL channel generated in-graph,
perfect CSI, RZF, 5G LDPC, LMMSE) in one process; batches of the two links
are interleaved so that machine load affects both alike. Throughput is
simulated information bits per wall-clock second (graph mode).

    python sims/bench_link_throughput.py --out results/bench_link
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import matplotlib  # noqa: E402
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import sionna.phy  # noqa: E402
import tensorflow as tf  # noqa: E402

from lasco_sionna.channels.config import BSArray, Numerology  # noqa: E402
from lasco_sionna.channels.stochastic import CDLEnvironment  # noqa: E402
from lasco_sionna.link import LinkConfig, MUMIMOOFDMLink  # noqa: E402
from lasco_sionna.link.reference import PlainSionnaRZFLink  # noqa: E402
from lasco_sionna.utils.io import atomic_path  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--num-bs-ant", type=int, default=32)
    ap.add_argument("--num-users", type=int, default=4)
    ap.add_argument("--fft-size", type=int, default=256)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--batches", type=int, default=10)
    ap.add_argument("--ebno-db", type=float, default=0.0)
    ap.add_argument("--seed", type=int, default=1,
                    help="Sionna's global seed (channels, bits, noise)")
    ap.add_argument("--out", default="results/bench_link")
    args = ap.parse_args()

    num = Numerology(fft_size=args.fft_size)
    env = CDLEnvironment(model="C", numerology=num,
                         bs_array=BSArray(num_cols=args.num_bs_ant))
    k = args.num_users
    ours = MUMIMOOFDMLink(env.channel_model(k), num, args.num_bs_ant,
                          LinkConfig(num_users=k), csi_feedback="perfect",
                          precoder="rzf")
    plain = PlainSionnaRZFLink(env.channel_model(k), num, k)
    links = {"lasco_sionna": (tf.function(ours.call), ours.num_info_bits),
             "plain_sionna": (tf.function(plain.call), plain.num_info_bits)}
    ebno = tf.constant(args.ebno_db)
    sionna.phy.config.seed = args.seed
    for fn, _ in links.values():  # trace and warm up
        fn(args.batch_size, ebno)
    elapsed = {name: 0.0 for name in links}
    for _ in range(args.batches):
        for name, (fn, _) in links.items():
            t0 = time.perf_counter()
            b, _ = fn(args.batch_size, ebno)
            b.numpy()
            elapsed[name] += time.perf_counter() - t0
    rows = []
    for name, (_, kbits) in links.items():
        bits = args.batches * args.batch_size * k * kbits
        rows.append({"link": name, "info_bits": bits,
                     "seconds": elapsed[name],
                     "info_bits_per_s": bits / elapsed[name]})
    df = pd.DataFrame(rows)
    ratio = df.info_bits_per_s[0] / df.info_bits_per_s[1]
    df["ratio_vs_plain"] = df.info_bits_per_s / df.info_bits_per_s[1]
    for key, val in vars(args).items():
        if key != "out":
            df[key] = val
    os.makedirs(args.out, exist_ok=True)
    with atomic_path(os.path.join(args.out, "throughput.csv")) as tmp:
        df.to_csv(tmp, index=False)
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.bar(df.link, df.info_bits_per_s / 1e3)
    ax.set_ylabel("simulated info kbit/s")
    ax.set_title(f"ratio {ratio:.3f}")
    fig.tight_layout()
    with atomic_path(os.path.join(args.out, "throughput.png")) as tmp:
        fig.savefig(tmp, format="png")
    print(df[["link", "info_bits", "seconds", "info_bits_per_s",
              "ratio_vs_plain"]].to_string(index=False))
    print(f"throughput ratio lasco_sionna / plain_sionna = {ratio:.3f}")


if __name__ == "__main__":
    main()
