#!/usr/bin/env python
"""Ray-traced dataset build: in-process vs dataset chunks on local Ray workers

    python sims/bench_dataset_ray.py --scene florence --num-ues 1536 --workers 2

Builds the same dataset twice into fresh cache directories -- once chunk
after chunk in this process, once with the chunks on ``--workers`` local Ray
workers (each with its own ray-tracing subprocess) -- checks that both files
hold the same channels and splits, and writes ``dataset_ray.csv`` and
``dataset_ray.png`` (wall time and speed-up) to ``--out``. Times include
everything a user waits for: coverage maps, tracing, Ray start-up.
"""

import argparse
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import matplotlib  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from lasco_sionna.channels import (BSArray, Numerology, build_dataset,  # noqa: E402
                                   get_environment)
from lasco_sionna.utils.executors import RayExecutor  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scene", default="florence")
    ap.add_argument("--num-ues", type=int, default=1536)
    ap.add_argument("--chunk-size", type=int, default=256)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--fft-size", type=int, default=256)
    ap.add_argument("--out", default="results/bench_dataset_ray")
    args = ap.parse_args()
    import ray  # pylint: disable=import-outside-toplevel
    env = get_environment(f"rt-{args.scene}",
                          numerology=Numerology(fft_size=args.fft_size),
                          bs_array=BSArray(num_cols=32))
    rows, built = [], {}
    for mode in ("in-process", f"ray x{args.workers}"):
        with tempfile.TemporaryDirectory() as cache:
            t0 = time.perf_counter()
            executor = None if mode == "in-process" else RayExecutor(
                num_workers=args.workers, progress=False)
            ds = build_dataset(env, args.num_ues, seed=0, cache_dir=cache,
                               chunk_size=args.chunk_size,
                               executor=executor, progress=False)
            seconds = time.perf_counter() - t0
            if executor is not None:
                ray.shutdown()
            built[mode] = ds
            rows.append({"scene": args.scene, "mode": mode,
                         "num_ues": args.num_ues,
                         "chunk_size": args.chunk_size,
                         "seconds": round(seconds, 1),
                         "ues_per_s": round(args.num_ues / seconds, 1)})
            print(rows[-1], flush=True)
    a, b = built.values()
    # Same drops, same splits; the channels of a few UEs differ between any
    # two runs of Sionna RT's path solver on the CPU (seeded, but its
    # parallel path bookkeeping is not bit-reproducible): count them
    np.testing.assert_array_equal(a.extras["ue_position"],
                                  b.extras["ue_position"])
    for k in a.splits:
        np.testing.assert_array_equal(a.splits[k], b.splits[k])
    diff = np.max(np.abs(a.h - b.h), axis=tuple(range(1, a.h.ndim)))
    rows[1]["ues_differing"] = int(np.sum(diff > 1e-4))
    df = pd.DataFrame(rows)
    df["speedup"] = (df["seconds"].iloc[0] / df["seconds"]).round(2)
    os.makedirs(args.out, exist_ok=True)
    df.to_csv(os.path.join(args.out, "dataset_ray.csv"), index=False)
    print(df.to_string(index=False))
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel
    fig, ax = plt.subplots(figsize=(5, 3))
    ax.bar(df["mode"], df["seconds"], color=["tab:gray", "tab:blue"])
    for i, r in df.iterrows():
        ax.text(i, r["seconds"], f"{r['seconds']:.0f} s (x{r['speedup']})",
                ha="center", va="bottom")
    ax.set_ylabel("wall time [s]")
    ax.set_title(f"rt-{args.scene}: {args.num_ues} UEs, "
                 f"chunks of {args.chunk_size}")
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "dataset_ray.png"), dpi=120)


if __name__ == "__main__":
    main()
