#!/usr/bin/env python
"""LASCO / E-LASCO vs baselines on unseen target environments

    python sims/bench_lasco.py --lam lam-cr16 --sam sam-ref-cr16 \\
        --targets rt-florence rt-san_francisco cdl-e rma \\
        --samples 100 300 1000 3000 --out results/bench_lasco [--methods ...]

Every target dataset (seed 101; ``--draw`` channels, split
``--split-fractions``) is split as its environment is (ray-traced targets
by location: test UEs
are >= 5 m from every training block, see
:mod:`lasco_sionna.channels.splits`); the first ``--max-samples`` (3,000)
training, ``--num-val`` (300) validation and ``--num-test`` (1,000) test
channels are used
(an error if a split is smaller), and a run with
``--samples n`` trains on the first ``n`` training channels.
``datasets.csv`` records per target how distinct the test channels are
from the training ones (:meth:`~lasco_sionna.channels.ChannelDataset.describe`).

For every target and number of target samples, every method is trained on
the target training samples (validation: ``--num-val`` target samples, checkpoint
selection with the unadapted model as candidate) and evaluated on ``--num-test``
target test samples: NMSE (dB), generalised cosine similarity rho and SGCS
(8 subbands) in the spatial-frequency domain, and the Gaussian
rate-distortion reference at the same payload with each method's distance
to it.

Metric conventions: NMSE is per test channel (linear), averaged over the
channels, then taken to dB. ``nmse_db``, ``rho`` and ``sgcs`` (8 equal
subbands, dominant eigenvector per subband) are in the spatial-frequency
domain over all ``fft_size`` subcarriers, with the image norm *as it is fed
back*: quantised with ``norm_bits`` = 8 bits
(:class:`lasco_sionna.csi.NormQuantizer`, as in the link's
:class:`~lasco_sionna.csi.LearnedCSIFeedback`); ``payload_bits`` includes
those bits (codebooks carry their own gains inside their payload:
``norm_bits`` = 0). ``image_nmse_db`` is the NMSE of the unit-norm 32-tap
image (no norm, no truncation). ``rd_nmse_db`` is the Gaussian R-D
reference of that image at the image bits (``payload_bits - norm_bits``),
so ``gap_to_rd_db = image_nmse_db - rd_nmse_db`` compares like with like;
``trunc_floor_db`` is the truncation floor of the target (the mean
spatial-frequency NMSE of keeping 32 delay taps, on the test channels) and
``rd_sf_nmse_db`` the R-D figure taken to the spatial-frequency domain
with that floor (compare with ``nmse_db``).

``lookup`` is the nearest-neighbour lookup
(:class:`lasco_sionna.models.LookupDecoder`): the report's coarse
inversion -> the closest of the ``n`` stored training reports -> its
training image. It is run for every target and sample count whatever
``--methods`` says: a method that does not beat it memorises reports
rather than learning the environment.

Cost of adaptation: ``trainable`` parameters, ``adapted_state`` (every
number adapted to the target: trainable parameters plus target-estimated
non-trainable state, i.e. a linear proxy's LMMSE gain, ``D x M`` entries,
when its shrinkage weight is < 1, and the lookup's table), wall time and
training FLOPs.

FLOPs are counted, not timed: the forward FLOPs of the LAM, the SAM and the
autoencoders are counted on their TensorFlow graphs
(:func:`lasco_sionna.utils.profiling.forward_flops`) and a training step is
taken as 3 forward passes of what is trained (forward + backward):
full fine-tuning and LoRA ``3 F_LAM`` per sample (the gradient flows back
through every block), last-block fine-tuning ``F_LAM + 2 F_block``,
LASCO/E-LASCO one cached LAM + reference-SAM pass over the training and
validation data plus ``3 F_SAM`` per training sample; validation passes are
included. The LMMSE adaptation costs a covariance (``2 n D^2``) and a
solve per shrinkage weight.

``lasco_linear`` is LASCO with *linear* SAMs and no training
(:func:`lasco_sionna.collab.adapt_linear`): the LMMSE decoders of the
source covariance (reference) and of the target covariance shrunk towards
it (proxy), ``f_LAM(x) + (G_target - G_source) y``;
``elasco_tap_on_lasco_linear`` runs per-tap E-LASCO with the (opaque)
callable ``lasco_linear`` in place of the LAM. ``elasco_linear`` is E-LASCO
with these linear SAMs and per-tap coefficients
``a f_LAM + b G_target y - c G_source y`` fitted by least squares on the
validation split (96 numbers; the test split is never touched); the
shrinkage weight minimises the validation error of the combination.
``elasco_tap_on_elasco_linear`` trains per-tap E-LASCO (a proxy SAM) on top
of ``elasco_linear`` (the validation split then serves both the
least-squares fit and the checkpoint selection). Method names are those of
:data:`lasco_sionna.collab.methods.ADAPTATION_METHODS`; result tables of
older runs hold older names (``elasco_linear_ls``, ``elasco_tap_linear``,
``elasco_tap_ls``: :data:`~lasco_sionna.collab.methods.METHOD_ALIASES`),
which ``--methods`` also accepts and a rerun recognises as done.

Forgetting: ``source_nmse_db`` is the mean NMSE, over the source
environments' validation data, of the decoder that serves *source* users
after the method ran: the LAM itself for LASCO / E-LASCO (checked to be
bit-identical to the LAM before adaptation, ``lam_untouched``), the
fine-tuned copy for the fine-tuning baselines (if it replaced the LAM).

Speed: every trained method's validation NMSE at each evaluation (every
100 steps, step 0 = unadapted) goes to ``history.csv``.

``--methods`` selects methods (default: all; ``lookup`` always runs), so the
expensive LAM fine-tuning baselines can run on a subset. Each finished (target,
samples, method) row is appended to ``results.csv`` at once (atomic write); a
rerun skips finished rows. ``--prepare-only`` builds (caches) the target
datasets.
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import tensorflow as tf  # noqa: E402

from lasco_sionna.channels import (BSArray, Numerology, build_dataset,  # noqa: E402
                                   get_environment)
from lasco_sionna.collab import (SHRINKAGE_GRID, CollaborativeDecoder,  # noqa: E402
                                 adapt, adapt_linear, finetune)
from lasco_sionna.collab.methods import (ADAPTATION_METHODS,  # noqa: E402
                                         METHOD_ALIASES, method_name,
                                         methods_of)
from lasco_sionna.csi import (NormQuantizer, cosine_similarity,  # noqa: E402
                              csi_from_image, get_csi_feedback,
                              image_nmse_db, nmse, rate_distortion_nmse_db,
                              sgcs, truncation_nmse, with_truncation_floor)
from lasco_sionna.models import (ConvAutoencoder, LMMSEDecoder,  # noqa: E402
                                 LookupDecoder, MixerSAM, apply_batched, fit,
                                 image_front_end, lmmse_gain,
                                 load_pretrained, load_source_images)
from lasco_sionna.utils.io import atomic_path  # noqa: E402
from lasco_sionna.utils.profiling import forward_flops  # noqa: E402

BATCH, EVAL_EVERY = 64, 100

def _of_kind(kind):
    return tuple(n for n, m in ADAPTATION_METHODS.items() if m.kind == kind)


#: LASCO / E-LASCO with a trained proxy SAM (and its ablation)
ADAPT_METHODS = _of_kind("sam")
#: With linear SAMs (nothing trained), and trained E-LASCO stacked on them
LINEAR_METHODS, STACKED_METHODS = _of_kind("linear"), _of_kind("stacked")
FT_METHODS = methods_of("finetune")
SCRATCH_METHODS = ("sam_scratch", "csinet", "crnet")
#: Run for every target and sample count, whatever --methods says
ALWAYS = ("lookup",)
ALL_METHODS = ALWAYS + ("type1", "etype2", "etype2_matched",
                        "lam_zero_shot", "sam_ref_zero_shot",
                        "lmmse_source", "lmmse_target") \
    + LINEAR_METHODS + STACKED_METHODS + ADAPT_METHODS + FT_METHODS \
    + SCRATCH_METHODS
#: Methods that do not use the LAM (their rows do not depend on --lam)
LAM_FREE = ALWAYS + ("type1", "etype2", "etype2_matched",
                     "sam_ref_zero_shot", "lmmse_source", "lmmse_target",
                     "sam_scratch", "csinet", "crnet")


def sf_metrics(h, h_hat):
    """NMSE [dB], rho, SGCS in the spatial-frequency domain"""
    return {"nmse_db": float(10 * np.log10(np.mean(nmse(h, h_hat)))),
            "rho": float(np.mean(cosine_similarity(h, h_hat))),
            "sgcs": float(np.mean(sgcs(h, h_hat, num_subbands=8)))}


def batched(decode, x):
    """Apply ``decode`` in batches of 250 -> `np.ndarray`"""
    return apply_batched(decode, x, batch_size=250)


def decoder_nmse_db(decode, x0, x):
    """NMSE [dB] of a decoder in the image domain (images have unit norm)"""
    return image_nmse_db(batched(decode, x0), x)


def parse_args(argv=None):
    """Command line -> `argparse.Namespace` (method names made current)"""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lam", default="lam-cr16")
    ap.add_argument("--sam", default="sam-ref-cr16")
    ap.add_argument("--targets", nargs="+",
                    default=["rt-florence", "rt-san_francisco", "cdl-e",
                             "rma"])
    ap.add_argument("--samples", nargs="+", type=int,
                    default=[100, 300, 1000, 3000])
    ap.add_argument("--max-samples", type=int, default=3000,
                    help="target training pool; fixes the dataset and its "
                         "test split, so runs with different --samples "
                         "share them")
    ap.add_argument("--num-val", type=int, default=300,
                    help="target validation channels")
    ap.add_argument("--num-test", type=int, default=1000,
                    help="target test channels")
    ap.add_argument("--draw", type=int, default=None,
                    help="target channels drawn (default: 1.3 x what the "
                         "splits need)")
    ap.add_argument("--split-fractions", nargs=3, type=float,
                    default=(0.6, 0.15, 0.25), metavar=("TRAIN", "VAL", "TEST"),
                    help="train/validation/test fractions of the draw (of "
                         "location blocks for ray-traced targets)")
    ap.add_argument("--methods", nargs="+", default=list(ALL_METHODS),
                    choices=ALL_METHODS + tuple(METHOD_ALIASES),
                    metavar="METHOD",
                    help="subset of: " + " ".join(ALL_METHODS))
    ap.add_argument("--steps", type=int, default=1500,
                    help="training steps of every trained method")
    ap.add_argument("--num-source-val", type=int, default=200,
                    help="validation images per source environment "
                         "(forgetting)")
    ap.add_argument("--fft-size", type=int, default=256)
    ap.add_argument("--target-seed", type=int, default=101,
                    help="seed of the target datasets (cached; 101, the "
                         "default, is what the shipped results used)")
    ap.add_argument("--out", default="results/bench_lasco")
    ap.add_argument("--prepare-only", action="store_true",
                    help="only build (cache) the target datasets")
    args = ap.parse_args(argv)
    args.methods = [method_name(m) for m in args.methods]
    if min(args.samples) < 1 or args.steps < 1:
        ap.error(f"--samples {args.samples} and --steps {args.steps} must be "
                 "positive")
    if max(args.samples) > args.max_samples:
        ap.error(f"--samples {args.samples} exceed --max-samples "
                 f"{args.max_samples}")
    return args


class Bench:
    """The models, the source data, the results files and the targets' data,
    shared by the benchmark's steps (the methods below, in run order)"""

    def __init__(self, args):
        self.args = args
        self.encoder, self.lam, lam_record = load_pretrained(args.lam)
        _, self.ref, ref_record = load_pretrained(args.sam)
        if ref_record["encoder"] != lam_record["encoder"]:
            raise ValueError(f"{args.lam} and {args.sam} use different "
                             "encoders")
        self.lam_config = lam_record["config"]
        self.num = Numerology(fft_size=args.fft_size)
        self.need = {"train": args.max_samples, "validation": args.num_val,
                     "test": args.num_test}
        # Ray-traced targets are split by location (whole blocks, a guard
        # band and near-duplicates left out): draw more than needed, then
        # keep the first samples of each split
        self.total = args.draw or int(np.ceil(sum(self.need.values()) * 1.3))
        self.splits = tuple(args.split_fractions)
        # The image norm as the link feeds it back (LearnedCSIFeedback's
        # quantiser); the learned payload carries its bits
        self.norm_q = NormQuantizer()
        self.image_bits = self.encoder.payload_bits
        self.payload = self.image_bits + self.norm_q.num_bits
        self.common = {"steps": args.steps, "eval_every": EVAL_EVERY,
                       "batch_size": BATCH}

    def target_data(self, target):
        """The target's dataset (cached)"""
        env = get_environment(target, numerology=self.num,
                              bs_array=BSArray(num_cols=32))
        return build_dataset(env, self.total, seed=self.args.target_seed,
                             splits=self.splits,
                             progress=True)

    # -- Source data, forgetting and FLOPs -------------------------------

    def prepare_sources(self):
        """Source data: pooled covariance (LMMSE) and forgetting"""
        sources = load_source_images(self.lam_config)
        src_train = np.concatenate([v[0] for v in sources.values()])
        self.src_val = {k: v[1][:self.args.num_source_val]
                        for k, v in sources.items()}
        self.src_val0 = {k: batched(self.encoder, v)
                         for k, v in self.src_val.items()}
        src_gain, self.src_cov = lmmse_gain(self.encoder, src_train)
        del src_train
        self.lam_src_before = {k: batched(self.lam, v)
                               for k, v in self.src_val0.items()}
        self.source_before = self.mean_source_nmse_db(self.lam_src_before)
        self.lmmse_src = LMMSEDecoder(self.encoder.get_config())
        self.lmmse_src.set_gain(src_gain)

    def mean_source_nmse_db(self, outputs):
        """Mean NMSE [dB] of decoded source validation images"""
        return float(np.mean([image_nmse_db(outputs[k], self.src_val[k])
                              for k in self.src_val]))

    def source_nmse_db(self, decode):
        """Mean source validation NMSE [dB] of a decoder"""
        return self.mean_source_nmse_db({k: batched(decode, self.src_val0[k])
                                         for k in self.src_val})

    def lam_after(self):
        """Forgetting columns of a LASCO / E-LASCO row, from one LAM pass:
        the source NMSE and whether the LAM's source outputs are
        bit-identical to those before any adaptation"""
        after = {k: batched(self.lam, v) for k, v in self.src_val0.items()}
        return {"source_nmse_db": self.mean_source_nmse_db(after),
                "lam_untouched": all(np.array_equal(after[k],
                                                    self.lam_src_before[k])
                                     for k in after)}

    def count_flops(self):
        """Forward FLOPs per sample of the LAM, the SAM and a LAM block"""
        enc, lam = self.encoder, self.lam
        self.shape = (1, 2, enc.num_ant, enc.num_taps)
        self.f_lam = forward_flops(lam, self.shape)
        self.f_sam = forward_flops(self.ref, self.shape)
        blocks = getattr(lam, "blocks", [])
        self.f_block = forward_flops(blocks[-1], (1, lam.num_taps,
                                                  lam.d_model)) \
            if blocks else self.f_lam
        print(f"forward MFLOP per sample: LAM {self.f_lam / 1e6:.1f}, "
              f"SAM {self.f_sam / 1e6:.2f}", flush=True)

    # -- Results files ---------------------------------------------------

    def open_results(self):
        """Read the finished rows and histories of an earlier run"""
        out = self.args.out
        os.makedirs(out, exist_ok=True)
        self.path = os.path.join(out, "results.csv")
        self.table = pd.read_csv(self.path) if os.path.exists(self.path) \
            else pd.DataFrame()
        self.done = set(zip(self.table.get("target", []),
                            self.table.get("samples", []),
                            map(method_name, self.table.get("method", []))))
        self.hist_path = os.path.join(out, "history.csv")
        self.histories = pd.read_csv(self.hist_path) \
            if os.path.exists(self.hist_path) else pd.DataFrame()

    def save_history(self, target, n, method, history):
        """Validation NMSE vs step of a trained method (adaptation speed)"""
        self.histories = pd.concat([self.histories, history.assign(
            target=target, samples=n, method=method)], ignore_index=True)
        with atomic_path(self.hist_path) as tmp:
            self.histories.to_csv(tmp, index=False)

    def save_dataset_report(self, target, ds):
        """How distinct the target's test channels are from its training
        ones (``datasets.csv``: one row per target)"""
        rep = {"target": target, **{k: v for k, v in ds.describe().items()
                                    if k != "split_rule"},
               "split_rule": json.dumps(ds.split_rule, sort_keys=True)}
        report_path = os.path.join(self.args.out, "datasets.csv")
        old = pd.read_csv(report_path) if os.path.exists(report_path) \
            else pd.DataFrame()
        if len(old):
            old = old[old["target"] != target]
        with atomic_path(report_path) as tmp:
            pd.concat([old, pd.DataFrame([rep])]).to_csv(tmp, index=False)

    def record(self, row):
        """Append a finished row to ``results.csv`` (atomic write)"""
        lam_info = {} if row["method"] in LAM_FREE else {
            "lam": self.args.lam, "source_nmse_before_db": self.source_before}
        row = {"steps": self.args.steps, **lam_info, **row}
        self.table = pd.concat([self.table, pd.DataFrame([row])],
                               ignore_index=True)
        with atomic_path(self.path) as tmp:
            self.table.to_csv(tmp, index=False)
        print({k: (round(v, 3) if isinstance(v, float) else v)
               for k, v in row.items()}, flush=True)

    # -- One target ------------------------------------------------------

    def load_target(self, target):
        """The target's channels, images, coarse inversions, fed-back test
        norms and its truncation / rate-distortion references"""
        ds = self.target_data(target)
        need = self.need
        short = {s: len(ds.splits[s]) for s in need
                 if len(ds.splits[s]) < need[s]}
        if short:
            raise RuntimeError(f"{target}: splits {short} are smaller than "
                               f"needed {need}; raise --draw")
        self.target = target
        self.h = {s: ds.subset(ds.splits[s][:need[s]]).as_matrix()
                  for s in need}
        self.save_dataset_report(target, ds)
        self.x, self.x0, norm = {}, {}, {}
        for s, v in self.h.items():
            self.x[s], self.x0[s], norm[s] = image_front_end(
                self.encoder, v, batch_size=250)
        # The norm the BS recovers from the norm bits
        self.norm_fb = self.norm_q(norm["test"])
        x = self.x
        # The rate-distortion reference needs a well-estimated covariance:
        # use every target image (train + validation + test); it is the
        # image-domain figure at the image bits (the norm is sent aside)
        all_x = np.concatenate([x["train"], x["validation"], x["test"]])
        floor = float(np.mean(truncation_nmse(self.h["test"],
                                              self.encoder.num_taps)))
        rd = rate_distortion_nmse_db(all_x, self.image_bits)
        self.reference = {"trunc_floor_db": float(10 * np.log10(floor)),
                          "rd_nmse_db": rd,
                          "rd_sf_nmse_db": with_truncation_floor(rd, floor)}
        if len(all_x) < 2 * all_x[0].size:
            print(f"warning: {len(all_x)} images for a {all_x[0].size}-dim "
                  "covariance: the rate-distortion reference is optimistic")

    def evaluate(self, decode, method, n, trainable, seconds, flops,
                 extra=None, history=None, adapted=None, inputs=None,
                 bits=None):
        """Row of an image decoder: ``decode(inputs)`` (default: the
        coarse inversions) with ``bits`` image bits (default: the
        encoder's) and the fed-back norm"""
        target, norm_q = self.target, self.norm_q
        if history is not None:
            self.save_history(target, n, method, history)
        y = batched(decode, self.x0["test"] if inputs is None else inputs)
        h_hat = csi_from_image(y, self.norm_fb, self.args.fft_size)
        row = {"target": target, "samples": n, "method": method,
               "payload_bits": (self.image_bits if bits is None else bits)
               + norm_q.num_bits, "norm_bits": norm_q.num_bits,
               "trainable": trainable,
               "adapted_state": trainable if adapted is None else adapted,
               "wall_time_s": seconds, "train_gflops": flops / 1e9,
               **self.reference, **sf_metrics(self.h["test"], h_hat),
               "image_nmse_db": image_nmse_db(y, self.x["test"]),
               **(extra or {})}
        row["gap_to_rd_db"] = row["image_nmse_db"] - row["rd_nmse_db"]
        self.record(row)

    def todo(self, n, method):
        """Whether the (target, n, method) row is asked for and not done"""
        return (method in self.args.methods or method in ALWAYS) \
            and (self.target, n, method) not in self.done

    def run_codebooks(self):
        """Type I, eType II and eType II at the learned payload"""
        args, num_ant = self.args, self.encoder.num_ant
        # eType II at the largest payload <= the learned payload
        matched = max(
            ({"name": "etype2", "num_beams": nb, "num_subbands": sb}
             for nb in (2, 4, 6, 8) for sb in (4, 8, 16)
             if get_csi_feedback({"name": "etype2", "num_beams": nb,
                                  "num_subbands": sb}, num_ant,
                                 args.fft_size).payload_bits <= self.payload),
            key=lambda spec: get_csi_feedback(spec, num_ant,
                                              args.fft_size).payload_bits)
        for method, spec in (("type1", {"name": "type1", "oversampling": 4}),
                             ("etype2", {"name": "etype2", "num_beams": 4}),
                             ("etype2_matched", matched)):
            if not self.todo(0, method):
                continue
            csi = get_csi_feedback(spec, num_ant, args.fft_size)
            t0 = time.perf_counter()
            h_hat = csi(self.h["test"])
            # The gains are inside the codebook's payload: no norm bits
            self.record({"target": self.target, "samples": 0,
                         "method": method, "config": str(spec),
                         "payload_bits": csi.payload_bits, "norm_bits": 0,
                         "trainable": 0, "adapted_state": 0,
                         "wall_time_s": time.perf_counter() - t0,
                         "train_gflops": 0.0, **self.reference,
                         **sf_metrics(self.h["test"], h_hat)})

    def run_zero_shot(self):
        """The LAM, the reference SAM and the source LMMSE decoder as they
        are"""
        for method, decode in (("lam_zero_shot", self.lam),
                               ("sam_ref_zero_shot", self.ref),
                               ("lmmse_source", self.lmmse_src)):
            if self.todo(0, method):
                self.evaluate(decode, method, 0, 0, 0.0, 0.0,
                              {"source_nmse_db": self.source_nmse_db(decode)})

    # -- One target, n training samples ----------------------------------

    def run_samples(self, n):
        """Every method trained on the first ``n`` training samples"""
        x, x0 = self.x, self.x0
        tr = slice(0, n)
        self.args_tr = (x0["train"][tr], x["train"][tr], x0["validation"],
                        x["validation"])
        self.n_evals = self.args.steps // EVAL_EVERY + 1
        # One cached LAM + reference pass, then proxy-SAM training
        self.adapt_flops = (n + self.args.num_val) * (self.f_lam + self.f_sam) \
            + self.args.steps * BATCH * 3 * self.f_sam \
            + self.n_evals * self.args.num_val * self.f_sam
        d, m = x0["test"][0].size, self.encoder.num_measurements
        # One covariance, then one solve per shrinkage weight
        self.lin_flops = 2.0 * n * d ** 2 + len(SHRINKAGE_GRID) * (
            2.0 * d ** 2 * m + 2.0 * d * m ** 2 + m ** 3)
        self.run_lookup(n)
        self.run_sam_methods(n)
        self.run_finetune(n)
        self.run_lmmse_target(n)
        linear = self.run_linear(n)
        self.run_stacked(n, linear)
        self.run_scratch(n)

    def run_lookup(self, n):
        """Nothing trained: the n training reports and their images"""
        if self.todo(n, "lookup"):
            t0 = time.perf_counter()
            dec = LookupDecoder.from_table(self.x0["train"][:n],
                                           self.x["train"][:n])
            self.evaluate(dec, "lookup", n, 0, time.perf_counter() - t0, 0.0,
                          adapted=dec.num_adapted)

    def run_sam_methods(self, n):
        """LASCO / E-LASCO with a trained proxy SAM"""
        for method in ADAPT_METHODS:
            if not self.todo(n, method):
                continue
            res = adapt(self.lam, self.ref, *self.args_tr,
                        **ADAPTATION_METHODS[method].kwargs, **self.common)
            decode = CollaborativeDecoder(self.lam, res.proxy, self.ref,
                                          res.combiner)
            coef = res.combiner.get_weights()[0].reshape(3, -1)
            self.evaluate(decode, method, n, res.num_trainable,
                          res.wall_time_s, self.adapt_flops,
                          {"coef_a": float(coef[0].mean()),
                           "coef_b": float(coef[1].mean()),
                           "coef_c": float(coef[2].mean()),
                           "best_step": res.best_step,
                           **self.lam_after()}, res.history)

    def run_finetune(self, n):
        """White-box fine-tuning of a LAM copy"""
        f_lam = self.f_lam
        ft = {"lam_full_ft": 3 * f_lam,
              "lam_last_block_ft": f_lam + 2 * self.f_block,
              "lam_lora": 3 * f_lam}
        for method, per_sample in ft.items():
            if not self.todo(n, method):
                continue
            res = finetune(self.lam, *self.args_tr,
                           **ADAPTATION_METHODS[method].kwargs, **self.common)
            flops = self.args.steps * BATCH * per_sample + \
                self.n_evals * self.args.num_val * f_lam
            self.evaluate(res.model, method, n, res.num_trainable,
                          res.wall_time_s, flops,
                          {"best_step": res.best_step,
                           "source_nmse_db": self.source_nmse_db(res.model)},
                          res.history)

    def run_lmmse_target(self, n):
        """Target covariance shrunk towards the source covariance, the
        weight chosen on the validation split (1 = source)"""
        if not self.todo(n, "lmmse_target"):
            return
        x, x0, encoder = self.x, self.x0, self.encoder
        d, m = x0["test"][0].size, encoder.num_measurements
        t0 = time.perf_counter()
        best = None
        _, c_hat = lmmse_gain(encoder, x["train"][:n])
        for w in SHRINKAGE_GRID:
            dec = LMMSEDecoder(encoder.get_config())
            dec.set_gain(lmmse_gain(encoder, x["train"][:n], shrinkage=w,
                                    prior=self.src_cov,
                                    sample_covariance=c_hat)[0])
            err = decoder_nmse_db(dec, x0["validation"], x["validation"])
            if best is None or err < best[0]:
                best = (err, w, dec)
        # Its gain is target state unless it is the source one
        self.evaluate(best[2], "lmmse_target", n, 0,
                      time.perf_counter() - t0, self.lin_flops,
                      {"shrinkage": best[1]},
                      adapted=0 if best[1] == 1.0 else d * m)

    def run_linear(self, n):
        """LASCO / E-LASCO with linear SAMs (collab.adapt_linear):
        reference = source LMMSE, proxy = shrunk target LMMSE; lasco_linear
        keeps the coefficients at 1, elasco_linear fits them per tap by
        least squares on the validation split. Returns the results the
        stacked methods build on."""
        linear = {}
        for method in LINEAR_METHODS:
            needed = self.todo(n, method) or any(
                self.todo(n, s) for s in STACKED_METHODS
                if ADAPTATION_METHODS[s].base == method)
            if not needed:
                continue
            res = adapt_linear(self.lam, self.encoder, self.x["train"][:n],
                               self.x0["validation"], self.x["validation"],
                               self.src_cov,
                               **ADAPTATION_METHODS[method].kwargs,
                               shrinkage_grid=SHRINKAGE_GRID)
            linear[method] = res
            if self.todo(n, method):
                coef = res.combiner.get_weights()[0].reshape(3, -1)
                self.evaluate(res.decoder(self.lam), method, n,
                              res.num_trainable, res.wall_time_s,
                              self.lin_flops + self.args.num_val * self.f_lam,
                              {"shrinkage": res.shrinkage,
                               "coef_a": float(coef[0].mean()),
                               "coef_b": float(coef[1].mean()),
                               "coef_c": float(coef[2].mean()),
                               **self.lam_after()},
                              adapted=res.num_adapted)
        return linear

    def run_stacked(self, n, linear):
        """E-LASCO (per-tap, trained proxy SAM) stacked on a linear form,
        which adapt() sees as the opaque "LAM" """
        for method in STACKED_METHODS:
            if not self.todo(n, method):
                continue
            base = linear[ADAPTATION_METHODS[method].base]
            lam_lin = base.decoder(self.lam)
            res = adapt(lam_lin, self.ref, *self.args_tr,
                        **ADAPTATION_METHODS[method].kwargs, **self.common)
            self.evaluate(CollaborativeDecoder(lam_lin, res.proxy, self.ref,
                                               res.combiner),
                          method, n, res.num_trainable + base.num_trainable,
                          base.wall_time_s + res.wall_time_s,
                          self.lin_flops + self.args.num_val * self.f_lam
                          + self.adapt_flops,
                          {"shrinkage": base.shrinkage,
                           "best_step": res.best_step,
                           **self.lam_after()},
                          res.history,
                          adapted=res.num_trainable + base.num_adapted)

    def run_scratch(self, n):
        """A SAM and CsiNet/CRNet-style autoencoders trained on the target
        alone"""
        x, x0, args = self.x, self.x0, self.args
        tr = slice(0, n)
        for method in SCRATCH_METHODS:
            if not self.todo(n, method):
                continue
            t0 = time.perf_counter()
            if method == "sam_scratch":
                model = MixerSAM.from_config(self.ref.get_config())
                model(x0["train"][:1])
                hist, best = fit(model, model.trainable_weights,
                                 (x0["train"][tr],), x["train"][tr],
                                 (x0["validation"],), x["validation"],
                                 **self.common)
                self.evaluate(model, method, n, model.count_params(),
                              time.perf_counter() - t0,
                              args.steps * BATCH * 3 * self.f_sam
                              + self.n_evals * args.num_val * self.f_sam,
                              {"best_step": best}, hist)
                continue
            # The autoencoders have their own UE encoder: feed images
            encoder = self.encoder
            model = ConvAutoencoder(
                method, num_ant=encoder.num_ant, num_taps=encoder.num_taps,
                compression=encoder.compression,
                bits_per_measurement=encoder.quantizer.num_bits)
            model(x["train"][:1])
            hist, best = fit(model, model.trainable_weights,
                             (x["train"][tr],), x["train"][tr],
                             (x["validation"],), x["validation"],
                             **self.common)
            seconds = time.perf_counter() - t0
            f_ae = forward_flops(model, self.shape)
            self.evaluate(model, method, n, model.count_params(), seconds,
                          args.steps * BATCH * 3 * f_ae
                          + self.n_evals * args.num_val * f_ae,
                          {"best_step": best}, hist, inputs=x["test"],
                          bits=model.payload_bits)


def main(argv=None):
    """Run the benchmark: every target, every sample count, every method"""
    args = parse_args(argv)
    bench = Bench(args)
    if args.prepare_only:
        for target in args.targets:
            bench.target_data(target)
        return
    bench.prepare_sources()
    bench.count_flops()
    bench.open_results()
    for target in args.targets:
        bench.load_target(target)
        bench.run_codebooks()
        bench.run_zero_shot()
        for n in sorted(args.samples):
            bench.run_samples(n)
    print(bench.table.pivot_table(index=["target", "samples"],
                                  columns="method",
                                  values="nmse_db").round(2).to_string())


if __name__ == "__main__":
    tf.get_logger().setLevel("ERROR")
    main()
