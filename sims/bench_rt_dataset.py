#!/usr/bin/env python
"""Ray-traced dataset generation: lasco-sionna vs a direct PathSolver + cfr loop

For every scene, lasco-sionna's ``env.generate(N)`` (UE drops from a
coverage map, batched path tracing in the RT worker, CIR -> OFDM, transfer
to the TensorFlow process, normalisation) is timed, then a fresh process
that imports ``sionna.rt`` runs the textbook loop on the same scene, BS,
array and UE positions: add 100 receivers, ``PathSolver``, ``paths.cfr``,
remove them. Both sides are measured warm: scene loading and a first
warm-up pass (Dr.Jit compiles its kernels for each batch shape) are
excluded on both sides, so the numbers are steady-state throughput, what
matters for datasets of thousands of UEs. The ratio is channels per second
of ours / direct (goal >= 0.9). ``ratio`` compares with the direct loop on
the final UE positions; ``ratio_same_traced`` with the direct loop on all
positions we traced, including the spare UEs dropped to replace those
without paths (it isolates the infrastructure overhead).

    python sims/bench_rt_dataset.py --num-ues 200 --out results/bench_rt
"""

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

SCENES = ("munich", "etoile", "florence", "san_francisco",
          "simple_street_canyon")


def direct(job_path):
    """Child process: the direct loop (sionna.rt imported first)"""
    import numpy as np  # pylint: disable=import-outside-toplevel
    from sionna.rt import (PathSolver, PlanarArray, Receiver,  # noqa
                           Transmitter, load_scene)
    import sionna.rt  # pylint: disable=import-outside-toplevel
    with open(job_path, "rb") as f:
        job = pickle.load(f)
    scene = load_scene(getattr(sionna.rt.scene, job["scene"]),
                       merge_shapes=True)
    scene.frequency = job["carrier_frequency"]
    scene.tx_array = PlanarArray(num_rows=1, num_cols=job["num_cols"],
                                 vertical_spacing=0.5, horizontal_spacing=0.5,
                                 pattern="tr38901", polarization="V")
    scene.rx_array = PlanarArray(num_rows=1, num_cols=1, pattern="iso",
                                 polarization="V")
    scene.add(Transmitter("bs", position=[float(v) for v in job["bs"]],
                          orientation=[0.0, 0.0, 0.0]))
    solver = PathSolver()
    times = []
    for pos, bsz in zip(job["position_sets"], job["batch_sizes"]):
        t0 = time.perf_counter()
        out = []
        for start in range(0, len(pos), bsz):
            names = [f"ue{i}" for i in range(start, min(start + bsz,
                                                        len(pos)))]
            for name, p in zip(names, pos[start:start + bsz]):
                scene.add(Receiver(name, position=[float(v) for v in p]))
            paths = solver(scene, max_depth=job["max_depth"],
                           samples_per_src=job["samples_per_src"])
            out.append(np.asarray(paths.cfr(
                frequencies=job["frequencies"], normalize_delays=True,
                out_type="numpy")))
            for name in names:
                scene.remove(name)
        np.concatenate(out)
        times.append(time.perf_counter() - t0)
    print(json.dumps({"seconds": times}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--num-ues", type=int, default=200)
    ap.add_argument("--scenes", nargs="+", default=list(SCENES))
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0,
                    help="repeat r draws its UEs with derive_seed(seed, "
                         "'repeat', r) (r = -1: the warm-up)")
    ap.add_argument("--out", default="results/bench_rt")
    ap.add_argument("--direct", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.direct:
        direct(args.direct)
        return

    # pylint: disable=import-outside-toplevel
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import pandas as pd
    from lasco_sionna.channels import get_environment
    from lasco_sionna.utils.io import atomic_path
    from lasco_sionna.utils.seeds import derive_seed

    rows = []
    for scene in args.scenes:
        # One site: the direct loop traces from one BS
        env = get_environment(f"rt-{scene}", num_sites=1)
        env.sites  # pylint: disable=pointless-statement  # loads the scene
        sets, ours, traced = [], [], []
        for rep in range(-1, args.repeats):          # rep -1: warm-up
            t0 = time.perf_counter()
            s = env.generate(args.num_ues,
                             seed=derive_seed(args.seed, "repeat", rep))
            ours.append(time.perf_counter() - t0)
            sets.append(s.extras["ue_position"])
            traced.append(env.last_traced_positions)
        # Direct loop on the final positions (batches of 100, as ours) and
        # on all traced positions (in our batch shape), each after warm-up
        job = {"scene": scene, "position_sets": sets + traced,
               "batch_sizes": [100] * len(sets) + [100] * len(traced),
               "bs": env.sites[0],
               "num_cols": env.bs_array.num_cols,
               "carrier_frequency": env.numerology.carrier_frequency,
               "frequencies": env.numerology.frequencies,
               "max_depth": env.max_depth,
               "samples_per_src": env.samples_per_src}
        with tempfile.NamedTemporaryFile(suffix=".pkl", delete=False) as f:
            pickle.dump(job, f)
        proc = subprocess.run([sys.executable, __file__, "--direct", f.name],
                              capture_output=True, text=True, check=True)
        os.remove(f.name)
        direct_s = json.loads(proc.stdout.strip().splitlines()[-1])["seconds"]
        for rep in range(args.repeats):
            rows.append({"scene": scene, "repeat": rep,
                         "num_ues": args.num_ues, "ours_s": ours[rep + 1],
                         "direct_s": direct_s[rep + 1],
                         "ratio": direct_s[rep + 1] / ours[rep + 1],
                         "num_traced": len(traced[rep + 1]),
                         "direct_same_traced_s":
                             direct_s[args.repeats + 2 + rep],
                         "ratio_same_traced":
                             direct_s[args.repeats + 2 + rep] / ours[rep + 1],
                         "seconds_per_1000_ues":
                             ours[rep + 1] / args.num_ues * 1000,
                         "warmup_ours_s": ours[0],
                         "warmup_direct_s": direct_s[0]})
            print(rows[-1], flush=True)
    df = pd.DataFrame(rows)
    summary = df.groupby("scene", sort=False).agg(
        num_ues=("num_ues", "first"), ours_s=("ours_s", "sum"),
        direct_s=("direct_s", "sum"),
        direct_same_traced_s=("direct_same_traced_s", "sum"),
        num_traced=("num_traced", "mean"),
        seconds_per_1000_ues=("seconds_per_1000_ues", "mean"))
    summary["ratio"] = summary.direct_s / summary.ours_s
    summary["ratio_same_traced"] = (summary.direct_same_traced_s
                                    / summary.ours_s)
    os.makedirs(args.out, exist_ok=True)
    with atomic_path(os.path.join(args.out, "rt_dataset_runs.csv")) as tmp:
        df.to_csv(tmp, index=False)
    with atomic_path(os.path.join(args.out, "rt_dataset.csv")) as tmp:
        summary.to_csv(tmp)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    summary.ratio.plot.bar(ax=axes[0], ylabel="ours / direct (channels/s)")
    axes[0].axhline(0.9, color="r", ls="--")
    summary.seconds_per_1000_ues.plot.bar(ax=axes[1],
                                          ylabel="s per 1000 UEs")
    fig.tight_layout()
    with atomic_path(os.path.join(args.out, "rt_dataset.png")) as tmp:
        fig.savefig(tmp, format="png")
    print(summary.to_string(float_format="{:.3f}".format))
    print(f"overall ratio = {summary.direct_s.sum() / summary.ours_s.sum():.3f}")


if __name__ == "__main__":
    main()
