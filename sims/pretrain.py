#!/usr/bin/env python
"""Pretrain the LAM (or the reference SAM) on the source environments, resumably

    python sims/pretrain.py sims/configs/lam_cr16_phase1.yaml     # train / resume
    python sims/pretrain.py sims/configs/lam_cr16.yaml            # phase 2
    python sims/pretrain.py sims/configs/lam_cr16.yaml --export   # + ship weights

The config names the model (``lam`` or ``sam`` and its sizes; optionally
``init_from``: a shipped model of the same architecture, or the config file
(ending in ``.yaml``, relative to this one) of a finished run of it, to
start from, or
``continue_from``: the config file (relative to this one) of an earlier
phase whose *finished* run this one continues -- weights from its last
checkpoint, a fresh optimizer and schedule over this phase's ``steps``, step
count, wall time and log carried on (e.g. more data for a second phase);
``init_lift: false`` keeps the LAM's lift at its random/zero init instead of
the pooled-source LMMSE decoder), the encoder
(compression ratio, bits), the source environments with their sample
counts (``sampling: balanced`` gives every source the same share of each
batch whatever its count; default ``pooled``), and the optimisation
schedule. Everything is seeded. Datasets are built (and cached) first
(:func:`lasco_sionna.models.load_source_images`); training
(:func:`lasco_sionna.models.training_loop`) checkpoints the weights, the
optimizer state, the step, the wall time and the phase's first step every
``checkpoint_every`` steps with :class:`tf.train.CheckpointManager`
(``<run>/checkpoints/``, the last two kept; ``<run>/state.json`` repeats
the step, wall time and phase start for people and for later phases), so a
killed run resumes where it stopped, with the same batches. A run directory
of the earlier format (``model.weights.h5`` + ``optimizer.npz``) is
migrated to a checkpoint when resumed. ``log.csv`` records wall time, train
loss and the validation NMSE of every source environment. ``--export``
writes ``lasco_sionna/models/weights/<name>.weights.h5`` and
``<name>.json`` (model config + training record + the SHA-256 of the
weights, checked at load; weights stored as float16) for
:func:`lasco_sionna.models.load_pretrained`.
"""

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import tensorflow as tf  # noqa: E402
import yaml  # noqa: E402

from lasco_sionna.models import (LinearProjectionEncoder, MixerSAM,  # noqa: E402
                                 TransformerLAM, lmmse_gain,
                                 load_source_images, save_compact_weights,
                                 squared_error_loss, train_step_fn,
                                 training_loop, write_pretrained_record)
from lasco_sionna.models.pretrained import WEIGHTS_DIR  # noqa: E402
from lasco_sionna.utils.io import atomic_path  # noqa: E402

MODELS = {"lam": TransformerLAM, "sam": MixerSAM}

#: Subdirectory of a run that holds its :class:`tf.train.CheckpointManager`
CHECKPOINTS = "checkpoints"

#: Files of a run directory written by the earlier (pre-CheckpointManager)
#: format: Keras weights and the optimizer variables in order
LEGACY_FILES = ("model.weights.h5", "optimizer.npz")


SAMPLING = ("pooled", "balanced")


def draw_batch(sizes, batch_size, sampling, seed):
    """Indices of a training batch into the concatenated source images

    ``"pooled"`` draws uniformly over all images (a source's share grows
    with its sample count); ``"balanced"`` draws the source uniformly, then
    an image of it (every source has the same share whatever its count).

    Input
    -----
    sizes : `list` of `int`
        Training images per source, in concatenation order

    batch_size : `int`
        Images per batch

    sampling : "pooled" | "balanced"
        How sources share the batch

    seed : seed of `numpy.random.default_rng`
        The step's seed

    Output
    ------
    indices : [batch_size], `np.int64`
    """
    rng = np.random.default_rng(seed)
    if sampling == "pooled":
        return rng.integers(0, sum(sizes), batch_size)
    sizes = np.asarray(sizes)
    # [batch_size] source of every image, then its index within the source
    src = rng.integers(0, len(sizes), batch_size)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return offsets[src] + (rng.random(batch_size) * sizes[src]).astype(int)


def build(cfg):
    enc = LinearProjectionEncoder(num_ant=cfg["num_ant"],
                                  num_taps=cfg["num_taps"], **cfg["encoder"])
    dec = MODELS[cfg["model"]](num_ant=cfg["num_ant"],
                               num_taps=cfg["num_taps"], **cfg["model_params"])
    inp = keras.Input((2, cfg["num_ant"], cfg["num_taps"]))
    model = keras.Model(inp, dec(inp))
    return enc, dec, model


def check_config(cfg):
    """Errors a run would otherwise hit only after loading its data"""
    o = cfg["optim"]
    if not 0 <= o["warmup"] < o["steps"]:
        raise ValueError(f"`optim.warmup`={o['warmup']!r} must be in "
                         f"[0, `optim.steps`={o['steps']!r})")
    if cfg.get("sampling", "pooled") not in SAMPLING:
        raise ValueError(f"`sampling`={cfg['sampling']!r} must be one of "
                         f"{SAMPLING}")
    for k in ("eval_every", "checkpoint_every"):
        if not int(o[k]) > 0:
            raise ValueError(f"`optim.{k}`={o[k]!r} must be a positive "
                             "integer")
    if cfg.get("continue_from") and cfg.get("init_from"):
        raise ValueError("set `continue_from` (next phase of a run) or "
                         "`init_from` (a new run's start), not both")
    init = str(cfg.get("init_from", ""))
    if init.endswith((".yml", ".json")):
        raise ValueError(f"`init_from`={init!r}: a config file must end in "
                         "'.yaml'; otherwise it names a shipped model")


def schedule(cfg):
    o = cfg["optim"]
    return keras.optimizers.schedules.CosineDecay(
        0.0, o["steps"] - o["warmup"], alpha=o.get("final_lr_fraction", 0.05),
        warmup_target=o["lr"], warmup_steps=o["warmup"])


def parent_config(cfg, config_path, key="continue_from"):
    """The config that ``cfg[key]`` (a config file) names -> (path, config)

    ``continue_from`` needs the same model and encoder, ``init_from`` the
    same model. Raises if the config file is missing or describes another
    architecture.
    """
    path = os.path.join(os.path.dirname(os.path.abspath(config_path)),
                        cfg[key])
    if not os.path.exists(path):
        raise FileNotFoundError(f"`{key}`={cfg[key]!r}: no config file {path}")
    with open(path, encoding="utf-8") as f:
        parent = yaml.safe_load(f)
    if parent["name"] == cfg["name"]:
        raise ValueError(f"`{key}`={cfg[key]!r} has this config's name "
                         f"{cfg['name']!r}; phases need distinct names")
    same = ("model", "num_ant", "num_taps", "model_params") + \
        (("encoder",) if key == "continue_from" else ())
    for k in same:
        if parent.get(k) != cfg.get(k):
            raise ValueError(f"`{key}`={cfg[key]!r} has a different `{k}`: "
                             f"{parent.get(k)!r}, this config has "
                             f"{cfg.get(k)!r}")
    return path, parent


def finished_parent(cfg, config_path, out, key="continue_from"):
    """The finished run that ``cfg[key]`` (a config file) names -> (run dir, state)

    The run lives next to ``out``. Raises as :func:`parent_config` does, or
    if the run is missing or unfinished.
    """
    path, parent = parent_config(cfg, config_path, key)
    run = os.path.join(os.path.dirname(os.path.abspath(out)), parent["name"])
    state_path = os.path.join(run, "state.json")
    if not os.path.exists(state_path):
        raise FileNotFoundError(f"`{key}`: no run of {path} in {run}; "
                                f"train it first (sims/pretrain.py {path})")
    with open(state_path, encoding="utf-8") as f:
        state = json.load(f)
    total = state.get("phase_start", 0) + parent["optim"]["steps"]
    if state["step"] < total:
        raise ValueError(f"`{key}`: the run in {run} stopped at step "
                         f"{state['step']} of {total}; finish it first")
    if not has_weights(run):
        raise FileNotFoundError(f"`{key}`: the run in {run} has no "
                                "checkpoint")
    if not os.path.exists(os.path.join(run, "log.csv")):
        raise FileNotFoundError(f"`{key}`: the run in {run} has no log.csv")
    return run, state


def latest_checkpoint(run):
    """`None` | `str` : Prefix of the last checkpoint of the run in ``run``"""
    return tf.train.latest_checkpoint(os.path.join(run, CHECKPOINTS))


def has_weights(run):
    """`bool` : The run in ``run`` has a checkpoint (or earlier-format weights)"""
    return latest_checkpoint(run) is not None or os.path.exists(
        os.path.join(run, LEGACY_FILES[0]))


def checkpoint_of(model, optimizer=None, **counters):
    """`tf.train.Checkpoint` of a model's weights, an optimizer's variables
    and counters

    Weights and optimizer variables are saved as lists, in the model's and
    the optimizer's order (as the earlier format did), not through Keras'
    object graph, whose layer names differ between instances.
    """
    objects = {"weights": list(model.weights), **counters}
    if optimizer is not None:
        objects["optimizer_variables"] = list(optimizer.variables)
    return tf.train.Checkpoint(**objects)


def load_run_weights(run, model):
    """Load the model weights of the last checkpoint of the run in ``run``

    A run directory of the earlier format gives its ``model.weights.h5``.
    Raises `ValueError` naming the checkpoint if its model differs.
    """
    latest = latest_checkpoint(run)
    if latest is None:
        model.load_weights(os.path.join(run, LEGACY_FILES[0]))
        return
    saved = [k for k, _ in tf.train.list_variables(latest)
             if k.startswith("weights/")]
    if len(saved) != len(model.weights):
        raise ValueError(f"the checkpoint {latest} holds {len(saved)} model "
                         f"weights, this config's model has "
                         f"{len(model.weights)}")
    try:
        checkpoint_of(model).restore(latest).expect_partial()
    except (ValueError, tf.errors.InvalidArgumentError) as e:
        raise ValueError(f"the checkpoint {latest} holds another model: "
                         f"{e}") from e


def parse_args(argv=None):
    """Command line -> `argparse.Namespace`"""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("config")
    ap.add_argument("--out", default=None,
                    help="run directory (default results/pretrain/<name>)")
    ap.add_argument("--max-minutes", type=float, default=None,
                    help="stop (after checkpointing) after this wall time")
    ap.add_argument("--export", action="store_true",
                    help="write the weights into the package")
    ap.add_argument("--export-only", action="store_true",
                    help="export the last checkpoint without training")
    ap.add_argument("--data-executor", choices=("ray",), default=None,
                    help="generate missing source-dataset chunks on Ray "
                         "workers (local, or $RAY_ADDRESS)")
    ap.add_argument("--init-from-package", action="store_true",
                    help="without a checkpoint, start from the weights "
                         "shipped in the package (warm restart, fresh "
                         "optimizer, step from the shipped record); for a "
                         "`continue_from` phase, the shipped weights may "
                         "also be the finished parent phase, used even "
                         "where the parent's run directory exists")
    return ap.parse_args(argv)


class Run:
    """One pretraining run: its config, directory, data, model, checkpoints
    and log, shared by the steps of :func:`main` (the methods below, in run
    order)"""

    def __init__(self, args):
        self.args = args
        with open(args.config, encoding="utf-8") as f:
            self.cfg = yaml.safe_load(f)
        check_config(self.cfg)
        self.name = self.cfg["name"]
        self.out = args.out or os.path.join("results", "pretrain", self.name)
        os.makedirs(self.out, exist_ok=True)
        self.state_path = os.path.join(self.out, "state.json")
        self.log_path = os.path.join(self.out, "log.csv")
        keras.utils.set_random_seed(self.cfg["seed"])
        self.resumed = self.legacy = False
        self.shipped, self.shipped_parent = None, False
        self.parent_run = self.parent_state = self.init_run = None
        self.step, self.elapsed, self.phase_start, self.history = 0, 0.0, 0, []

    # -- Where training starts (checked before any data is loaded) -------

    def find_start(self):
        """This run's checkpoint, the shipped weights, a finished parent
        phase, another config's finished run, or a fresh start"""
        cfg, out = self.cfg, self.out
        legacy = all(os.path.exists(os.path.join(out, f))
                     for f in LEGACY_FILES)
        self.resumed = latest_checkpoint(out) is not None or legacy
        self.legacy = legacy and latest_checkpoint(out) is None
        if self.resumed:
            if not os.path.exists(self.state_path):
                raise FileNotFoundError(
                    f"{out} has a checkpoint but no state.json; move it or "
                    "pass another --out")
            with open(self.state_path, encoding="utf-8") as f:
                state = json.load(f)
            # A run directory left by another config (e.g. a renamed phase)
            if state.get("name", self.name) != self.name or (
                    cfg.get("continue_from") and "phase_start" not in state):
                raise ValueError(
                    f"{out} holds a run of another config "
                    f"({state.get('name', 'a single-phase run')!r}); move it "
                    "or pass another --out")
        elif os.path.exists(self.state_path) or any(
                os.path.exists(os.path.join(out, f)) for f in LEGACY_FILES):
            raise FileNotFoundError(
                f"{out} holds a run whose checkpoint is missing or "
                f"incomplete (no {os.path.join(out, CHECKPOINTS)}, or not "
                f"both of {LEGACY_FILES}); move it or pass another --out "
                "instead of starting again over it")
        elif self.args.export_only:
            raise FileNotFoundError(f"--export-only: no checkpoint in {out}")
        if not self.resumed and self.args.init_from_package and \
                os.path.exists(os.path.join(WEIGHTS_DIR,
                                            f"{self.name}.weights.h5")):
            self._check_shipped()
        if cfg.get("continue_from") and not self.resumed and \
                self.shipped is None:
            self.parent_run, self.parent_state = finished_parent(
                cfg, self.args.config, out)
        if str(cfg.get("init_from", "")).endswith(".yaml") and \
                not self.resumed and self.shipped is None:
            self.init_run, _ = finished_parent(cfg, self.args.config, out,
                                               "init_from")

    def _check_shipped(self):
        """The shipped weights of this name: this phase, or its finished parent"""
        cfg, name = self.cfg, self.name
        with open(os.path.join(WEIGHTS_DIR, f"{name}.json"),
                  encoding="utf-8") as f:
            self.shipped = shipped = json.load(f)
        was = shipped.get("config", {})
        if cfg.get("continue_from") and (
                "phase_start" not in shipped or
                was.get("name") != cfg["name"] or
                was.get("continue_from") != cfg["continue_from"]):
            # Not this phase (an export of this phase records its
            # `phase_start`, name and parent): the shipped weights may be the
            # finished parent phase (e.g. phase 1 shipped, its run directory
            # lost; an early export may even carry this phase's name):
            # trained as the parent config says (name and starting point
            # aside) to its last step. This phase then starts from them.
            _, parent = parent_config(cfg, self.args.config)
            end = shipped.get("phase_start", 0) + parent["optim"]["steps"]
            differ = sorted(k for k in set(parent) | set(was)
                            if k not in ("name", "init_from", "init_lift")
                            and parent.get(k) != was.get(k))
            if differ or shipped["steps"] != end:
                raise ValueError(
                    f"the shipped {name!r} is neither a run of this phase "
                    f"nor the finished parent phase {parent['name']!r} "
                    f"({end} steps): it ran {shipped['steps']} steps"
                    + (f" with another {differ}" if differ else ""))
            self.shipped_parent = True

    # -- Data and model ---------------------------------------------------

    def load_data(self):
        """Source images: per label (train, validation); pooled training images"""
        self.data = load_source_images(self.cfg,
                                       executor=self.args.data_executor)
        self.labels = list(self.data)
        self.train_images = np.concatenate([self.data[k][0]
                                            for k in self.labels])
        self.sizes = [len(self.data[k][0]) for k in self.labels]

    def build_model(self):
        """Encoder, decoder, optimizer and their checkpoint manager"""
        cfg = self.cfg
        self.enc, self.dec, self.model = build(cfg)
        self.opt = keras.optimizers.AdamW(
            schedule(cfg), weight_decay=cfg["optim"].get("weight_decay",
                                                         1e-4),
            clipnorm=1.0)
        self.opt.build(self.model.trainable_variables)
        self.counters = {"step": tf.Variable(0, dtype=tf.int64),
                         "elapsed_s": tf.Variable(0.0, dtype=tf.float64),
                         "phase_start": tf.Variable(0, dtype=tf.int64)}
        self.ckpt = checkpoint_of(self.model, self.opt, **self.counters)
        self.manager = tf.train.CheckpointManager(
            self.ckpt, os.path.join(self.out, CHECKPOINTS), max_to_keep=2)
        print(f"{self.name}: {self.model.count_params():,} parameters, "
              f"{self.enc.payload_bits} feedback bits, "
              f"{len(self.train_images)} training images", flush=True)

    def restore(self):
        """Weights, optimizer state, step, wall time and carried-over log
        from where :meth:`find_start` said training starts"""
        if self.resumed:
            self._restore_checkpoint()
        elif self.shipped is not None:
            self._restore_shipped()
        elif self.parent_run:
            load_run_weights(self.parent_run, self.model)
            self.history = pd.read_csv(os.path.join(
                self.parent_run, "log.csv")).to_dict("records")
            self.step = self.parent_state["step"]
            self.elapsed = self.parent_state["elapsed_s"]
            self.phase_start = self.step
            print(f"continuing {self.parent_run} from step {self.step} "
                  f"({self.elapsed / 60:.1f} min)", flush=True)
        else:
            self._initialise()

    def _restore_checkpoint(self):
        if self.legacy:
            self._migrate_legacy()
        latest = self.manager.latest_checkpoint
        try:
            self.ckpt.restore(latest).assert_consumed()
        except (AssertionError, ValueError,
                tf.errors.InvalidArgumentError) as e:
            raise ValueError(f"the checkpoint {latest} does not match this "
                             f"config's model and optimizer: {e}") from e
        self.step = int(self.counters["step"].numpy())
        self.elapsed = float(self.counters["elapsed_s"].numpy())
        self.phase_start = int(self.counters["phase_start"].numpy())
        # state.json may lag the checkpoint (a kill between the two writes)
        self._write_state()
        print(f"resumed at step {self.step} ({self.elapsed / 60:.1f} min)",
              flush=True)

    def _migrate_legacy(self):
        """A run directory of the earlier format -> a checkpoint (then the
        earlier files are removed)"""
        weights, opt_path = (os.path.join(self.out, f) for f in LEGACY_FILES)
        with open(self.state_path, encoding="utf-8") as f:
            state = json.load(f)
        self.model.load_weights(weights)
        with np.load(opt_path) as z:
            keys = sorted(z.files, key=lambda s: int(s[1:]))
            if len(keys) != len(self.opt.variables) or any(
                    z[k].shape != tuple(v.shape)
                    for k, v in zip(keys, self.opt.variables)):
                raise ValueError(
                    f"{opt_path} (earlier checkpoint format) does not match "
                    "this config's optimizer; move the run directory "
                    f"{self.out} or pass another --out")
            for v, k in zip(self.opt.variables, keys):
                v.assign(z[k])
        self._save(state["step"], state["elapsed_s"],
                   state.get("phase_start", 0))
        for path in (weights, opt_path):
            os.remove(path)
        print(f"migrated {self.out} to a checkpoint "
              f"({os.path.join(self.out, CHECKPOINTS)})", flush=True)

    def _restore_shipped(self):
        self.model.load_weights(os.path.join(WEIGHTS_DIR,
                                             f"{self.name}.weights.h5"))
        self.step = self.shipped["steps"]
        self.elapsed = self.shipped["wall_time_s"]
        self.history = self.shipped.get("history", [])
        if self.shipped_parent:
            # This phase starts where the shipped parent phase ended
            self.phase_start = self.step
            print(f"continuing the shipped parent phase from step "
                  f"{self.step} ({self.elapsed / 60:.1f} min)", flush=True)
        else:
            self.phase_start = self.shipped.get("phase_start", 0)
            # The LR schedule continues where the shipped phase stopped
            self.opt.iterations.assign(self.step - self.phase_start)
            print(f"warm restart from the shipped weights at step "
                  f"{self.step}", flush=True)

    def _initialise(self):
        """A fresh run: optional warm start, then the LAM's lift"""
        cfg = self.cfg
        if self.init_run:
            # Warm start from the finished run of another config with the
            # same model (e.g. a CR 1/16 run for a CR 1/32 LAM)
            load_run_weights(self.init_run, self.model)
            print(f"initialised from {self.init_run}", flush=True)
        elif cfg.get("init_from"):
            # Warm start from another shipped model of the same architecture
            # (e.g. the CR 1/16 LAM for a CR 1/32 LAM)
            with open(os.path.join(WEIGHTS_DIR, f"{cfg['init_from']}.json"),
                      encoding="utf-8") as f:
                other = json.load(f)
            if other["decoder"] != self.dec.get_config():
                raise ValueError(f"`init_from`={cfg['init_from']!r} has a "
                                 "different decoder configuration")
            self.model.load_weights(os.path.join(
                WEIGHTS_DIR, f"{cfg['init_from']}.weights.h5"))
            print(f"initialised from {cfg['init_from']}", flush=True)
        if getattr(self.dec, "code_dim", 0) and cfg.get("init_lift", True):
            # Start the LAM's lift at the LMMSE decoder of the pooled sources
            gain, _ = lmmse_gain(self.enc, self.train_images)
            self.dec.init_linear_inverse(self.enc.projection, gain)
            print("lift initialised to the pooled-source LMMSE decoder",
                  flush=True)

    # -- Log, checkpoints, training ---------------------------------------

    def open_log(self):
        """The log so far: this run's up to its checkpoint, or the one
        carried over from the shipped weights or the parent phase"""
        if self.resumed and os.path.exists(self.log_path):
            # Rows written after the last checkpoint are evaluated again
            log = pd.read_csv(self.log_path)
            self.log = log[log.step <= self.step]
        else:
            self.log = pd.DataFrame(self.history)
        if len(self.log) and not os.path.exists(self.log_path):
            # A carried-over log survives a kill before this phase's first
            # evaluation
            self._write_log()

    def _write_log(self):
        with atomic_path(self.log_path) as p:
            self.log.to_csv(p, index=False)

    def _write_state(self):
        with atomic_path(self.state_path) as p:
            with open(p, "w", encoding="utf-8") as f:
                json.dump({"name": self.name, "step": self.step,
                           "elapsed_s": self.elapsed,
                           "phase_start": self.phase_start}, f)

    def _save(self, step, elapsed, phase_start):
        """Checkpoint (model, optimizer, counters), then ``state.json``"""
        self.step, self.elapsed, self.phase_start = step, elapsed, phase_start
        self.counters["step"].assign(step)
        self.counters["elapsed_s"].assign(elapsed)
        self.counters["phase_start"].assign(phase_start)
        self.manager.save(checkpoint_number=step)
        self._write_state()

    @tf.function(jit_compile=True)
    def _val_err(self, x):
        return squared_error_loss(self.dec(self.enc(x)), x)

    def evaluate(self):
        """`dict` : Validation NMSE [dB] per source, ``val_nmse_db/<label>``"""
        return {f"val_nmse_db/{k}": float(10 * np.log10(np.mean(
            np.concatenate([self._val_err(self.data[k][1][j:j + 256]).numpy()
                            for j in range(0, len(self.data[k][1]), 256)]))))
            for k in self.labels}

    def train(self):
        """Optimise to the phase's last step (or the time limit),
        evaluating and checkpointing on the way"""
        cfg, o = self.cfg, self.cfg["optim"]
        last = self.phase_start + o["steps"]
        if self.args.export_only or self.step >= last:
            return
        step = train_step_fn(lambda x: self.dec(self.enc(x)),
                             self.model.trainable_variables, self.opt,
                             squared_error_loss, jit_compile=True)
        sampling = cfg.get("sampling", "pooled")

        def batch(s):
            # The batch of the step after s steps: seeded by (seed, s)
            x = tf.constant(self.train_images[draw_batch(
                self.sizes, o["batch_size"], sampling, [cfg["seed"], s])])
            return (x,), x

        def log_row(row):
            self.log = pd.concat([self.log, pd.DataFrame([row])],
                                 ignore_index=True)
            self._write_log()
            print(" ".join(f"{k.split('/')[-1]}={v:.2f}"
                           if isinstance(v, float) else f"{k}={v}"
                           for k, v in row.items()), flush=True)

        max_seconds = None if self.args.max_minutes is None else \
            60 * self.args.max_minutes
        done, _ = training_loop(
            step, batch, self.evaluate, self.step, last, o["eval_every"],
            phase_start=self.phase_start, elapsed_s=self.elapsed,
            on_eval=log_row,
            checkpoint=lambda s, t: self._save(s, t, self.phase_start),
            checkpoint_every=o["checkpoint_every"], max_seconds=max_seconds)
        if done < last:
            print(f"time limit reached at step {done}; rerun to resume")

    def export(self):
        """Ship the weights and the record in the package"""
        cfg = self.cfg
        os.makedirs(WEIGHTS_DIR, exist_ok=True)
        final = self.evaluate()
        record = {"name": self.name, "model": cfg["model"],
                  "encoder": self.enc.get_config(),
                  "decoder": self.dec.get_config(),
                  "num_parameters": int(self.model.count_params()),
                  "payload_bits": self.enc.payload_bits,
                  "steps": self.step, "wall_time_s": self.elapsed,
                  "phase_start": self.phase_start,
                  "sources": [s["environment"] for s in cfg["sources"]],
                  "val_nmse_db": {k.split("/")[-1]: v
                                  for k, v in final.items()},
                  "config": cfg,
                  "history": self.log.to_dict("records")}
        target = os.path.join(WEIGHTS_DIR, f"{self.name}.weights.h5")
        save_compact_weights(keras.Model(self.model.inputs,
                                         self.model.outputs), target)
        write_pretrained_record(record, target)
        print(f"exported {target}")


def main(argv=None):
    """Train (or resume) the run a config describes; export if asked"""
    args = parse_args(argv)
    run = Run(args)
    run.find_start()
    run.load_data()
    run.build_model()
    run.restore()
    run.open_log()
    run.train()
    if args.export or args.export_only:
        run.export()


if __name__ == "__main__":
    main()
