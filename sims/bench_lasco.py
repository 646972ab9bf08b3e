#!/usr/bin/env python
"""LASCO / E-LASCO vs baselines on unseen target environments (issue 3, measurements a-e, h)

    python sims/bench_lasco.py --lam lam-cr16 --sam sam-ref-cr16 \\
        --targets rt-florence rt-san_francisco cdl-e rma --samples 100 300 1000 3000 \\
        --out results/bench_lasco

For every target and number of target samples, every method is trained on
the target training samples (validation: 300 target samples, checkpoint
selection with the unadapted model as candidate) and evaluated on 1,000
target test samples: NMSE (dB), generalised cosine similarity rho and SGCS
(8 subbands) in the spatial-frequency domain, trainable parameters, wall
time, and the Gaussian rate-distortion reference at the same payload.
Codebooks (Type I, eType II) are evaluated on the same test channels.
Forgetting: the NMSE on the source environments' validation data of the
decoder each method leaves behind. Each finished (target, samples, method)
row is appended to ``results.csv`` at once; a rerun skips finished rows.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import tensorflow as tf  # noqa: E402

from lasco_sionna.channels import (BSArray, Numerology, build_dataset,  # noqa: E402
                                   get_environment)
from lasco_sionna.collab import adapt, finetune  # noqa: E402
from lasco_sionna.csi import (cosine_similarity, csi_from_image, csi_image,  # noqa: E402
                              get_csi_feedback, nmse, rate_distortion_nmse_db,
                              sgcs)
from lasco_sionna.models import (ConvAutoencoder, MixerSAM, fit,  # noqa: E402
                                 load_pretrained)
from lasco_sionna.utils.io import atomic_path  # noqa: E402

NUM_VAL, NUM_TEST = 300, 1000


def sf_metrics(h, h_hat):
    """NMSE [dB], rho, SGCS in the spatial-frequency domain"""
    return {"nmse_db": float(10 * np.log10(np.mean(nmse(h, h_hat)))),
            "rho": float(np.mean(cosine_similarity(h, h_hat))),
            "sgcs": float(np.mean(sgcs(h, h_hat, num_subbands=8)))}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lam", default="lam-cr16")
    ap.add_argument("--sam", default="sam-ref-cr16")
    ap.add_argument("--targets", nargs="+",
                    default=["rt-florence", "rt-san_francisco", "cdl-e",
                             "rma"])
    ap.add_argument("--samples", nargs="+", type=int,
                    default=[100, 300, 1000, 3000])
    ap.add_argument("--steps", type=int, default=1500,
                    help="training steps of every trained method")
    ap.add_argument("--fft-size", type=int, default=256)
    ap.add_argument("--out", default="results/bench_lasco")
    args = ap.parse_args()

    encoder, lam, _ = load_pretrained(args.lam)
    _, ref, _ = load_pretrained(args.sam)
    num = Numerology(fft_size=args.fft_size)
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "results.csv")
    table = pd.read_csv(path) if os.path.exists(path) else pd.DataFrame()
    done = set(zip(table.get("target", []), table.get("samples", []),
                   table.get("method", [])))
    payload = encoder.payload_bits

    def record(row):
        nonlocal table
        table = pd.concat([table, pd.DataFrame([row])], ignore_index=True)
        with atomic_path(path) as tmp:
            table.to_csv(tmp, index=False)
        print({k: (round(v, 3) if isinstance(v, float) else v)
               for k, v in row.items()}, flush=True)

    for target in args.targets:
        env = get_environment(target, numerology=num,
                              bs_array=BSArray(num_cols=32))
        n_max = max(args.samples)
        ds = build_dataset(env, n_max + NUM_VAL + NUM_TEST, seed=101,
                           splits=(n_max / (n_max + NUM_VAL + NUM_TEST),
                                   NUM_VAL / (n_max + NUM_VAL + NUM_TEST),
                                   NUM_TEST / (n_max + NUM_VAL + NUM_TEST)))
        h = {s: ds.split(s).as_matrix() for s in ("train", "validation",
                                                  "test")}
        img = {s: csi_image(v, encoder.num_taps) for s, v in h.items()}
        x = {s: v[0].numpy() for s, v in img.items()}
        norm = img["test"][1]
        x0 = {s: encoder(v).numpy() for s, v in x.items()}
        # The rate-distortion reference needs a well-estimated covariance:
        # use every target image (train + validation + test)
        all_x = np.concatenate([x["train"], x["validation"], x["test"]])
        rd = rate_distortion_nmse_db(all_x, payload)
        if len(all_x) < 2 * all_x[0].size:
            print(f"warning: {len(all_x)} images for a {all_x[0].size}-dim "
                  "covariance: the rate-distortion reference is optimistic")

        def evaluate(decode, method, n, trainable, seconds, extra=None):
            y = np.concatenate([np.asarray(decode(x0["test"][i:i + 250]))
                                for i in range(0, NUM_TEST, 250)])
            h_hat = csi_from_image(y, norm, args.fft_size)
            row = {"target": target, "samples": n, "method": method,
                   "payload_bits": payload, "trainable": trainable,
                   "wall_time_s": seconds, "rd_nmse_db": rd,
                   **sf_metrics(h["test"], h_hat), **(extra or {})}
            row["gap_to_rd_db"] = row["nmse_db"] - rd
            record(row)

        for method, spec in (("type1", {"name": "type1", "oversampling": 4}),
                             ("etype2", {"name": "etype2", "num_beams": 4})):
            if (target, 0, method) in done:
                continue
            csi = get_csi_feedback(spec, 32, args.fft_size)
            t0 = time.perf_counter()
            h_hat = csi(h["test"])
            row = {"target": target, "samples": 0, "method": method,
                   "payload_bits": csi.payload_bits, "trainable": 0,
                   "wall_time_s": time.perf_counter() - t0,
                   **sf_metrics(h["test"], h_hat)}
            record(row)
        if (target, 0, "lam_zero_shot") not in done:
            evaluate(lam, "lam_zero_shot", 0, 0, 0.0)
        for n in sorted(args.samples):
            tr = slice(0, n)
            args_tr = (x0["train"][tr], x["train"][tr], x0["validation"],
                       x["validation"])
            common = {"steps": args.steps, "eval_every": 100}
            todo = {
                "lasco": lambda: adapt(lam, ref, *args_tr, mode="lasco",
                                       **common),
                "elasco_scalar": lambda: adapt(lam, ref, *args_tr,
                                               mode="scalar", **common),
                "elasco_tap": lambda: adapt(lam, ref, *args_tr, mode="tap",
                                            **common),
                "proxy_alone": lambda: adapt(lam, ref, *args_tr,
                                             mode="lasco",
                                             variant="proxy_alone", **common),
                "lam_full_ft": lambda: finetune(lam, *args_tr, "full",
                                                **common),
                "lam_last_block_ft": lambda: finetune(
                    lam, *args_tr, "last_blocks", **common,
                    learning_rate=3e-4),
                "lam_lora": lambda: finetune(lam, *args_tr, "lora", **common,
                                             learning_rate=1e-3),
            }
            for method, run in todo.items():
                if (target, n, method) in done:
                    continue
                res = run()
                if hasattr(res, "combiner"):
                    decode = (lambda r: lambda z: r.combiner(
                        [lam(z), r.proxy(z), ref(z)]))(res)
                    coef = res.combiner.get_weights()[0].reshape(3, -1)
                    extra = {"coef_a": float(coef[0].mean()),
                             "coef_b": float(coef[1].mean()),
                             "coef_c": float(coef[2].mean()),
                             "best_step": res.best_step}
                else:
                    decode, extra = res.model, {"best_step": res.best_step}
                evaluate(decode, method, n, res.num_trainable,
                         res.wall_time_s, extra)
            # Trained on the target alone
            for method in ("sam_scratch", "csinet", "crnet"):
                if (target, n, method) in done:
                    continue
                t0 = time.perf_counter()
                if method == "sam_scratch":
                    model = MixerSAM.from_config(ref.get_config())
                    model(x0["train"][:1])
                    inputs = (x0["train"][tr],), (x0["validation"],)
                    decode = model
                else:
                    model = ConvAutoencoder(
                        method, compression=encoder.compression,
                        bits_per_measurement=encoder.quantizer.num_bits)
                    model(x["train"][:1])
                    inputs = (x["train"][tr],), (x["validation"],)
                    # the autoencoder has its own UE encoder: feed images
                    decode = None
                hist, best = fit(model, model.trainable_weights, inputs[0],
                                 x["train"][tr], inputs[1], x["validation"],
                                 steps=args.steps, eval_every=100)
                seconds = time.perf_counter() - t0
                if decode is None:
                    y = np.asarray(model(x["test"]))
                    h_hat = csi_from_image(y, norm, args.fft_size)
                    row = {"target": target, "samples": n, "method": method,
                           "payload_bits": model.payload_bits,
                           "trainable": model.count_params(),
                           "wall_time_s": seconds, "rd_nmse_db": rd,
                           "best_step": best,
                           **sf_metrics(h["test"], h_hat)}
                    row["gap_to_rd_db"] = row["nmse_db"] - rd
                    record(row)
                else:
                    evaluate(decode, method, n, model.count_params(),
                             seconds, {"best_step": best})
    print(table.pivot_table(index=["target", "samples"], columns="method",
                            values="nmse_db").round(2).to_string())


if __name__ == "__main__":
    tf.get_logger().setLevel("ERROR")
    main()
