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
schedule. Everything is seeded. Datasets are built (and cached) first; training checkpoints the weights, the optimizer
state and the step every ``checkpoint_every`` steps (atomic writes), so a
killed run resumes where it stopped. ``log.csv`` records wall time, train
loss and the validation NMSE of every source environment. ``--export``
writes ``lasco_sionna/models/weights/<name>.weights.h5`` and
``<name>.json`` (model config + training record + the SHA-256 of the
weights, checked at load; weights stored as float16) for
:func:`lasco_sionna.models.load_pretrained`.
"""

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import tensorflow as tf  # noqa: E402
import yaml  # noqa: E402

from lasco_sionna.channels import (BSArray, Numerology, build_dataset,  # noqa: E402
                                   get_environment)
from lasco_sionna.csi import csi_image  # noqa: E402
from lasco_sionna.models import (LinearProjectionEncoder, MixerSAM,  # noqa: E402
                                 TransformerLAM, lmmse_gain,
                                 save_compact_weights,
                                 write_pretrained_record)
from lasco_sionna.models.pretrained import WEIGHTS_DIR  # noqa: E402
from lasco_sionna.utils.io import atomic_path  # noqa: E402

MODELS = {"lam": TransformerLAM, "sam": MixerSAM}


def load_images(cfg, executor=None, test=False):
    """Source datasets -> {env: (train images, validation images[, test images])}

    ``executor`` (`None` or ``"ray"``) generates missing dataset chunks in
    this process or on Ray workers (same files). ``test=True`` adds the
    test images (at most ``max_validation``, like the validation images).

    A source's optional ``validation_from: k`` keeps only validation draws
    with index ``>= k``: draws ``0 .. k-1`` are an earlier phase's dataset
    (the same seeded chunks), which trained on most of them.
    """
    num = Numerology(**cfg.get("numerology", {}))
    arr = BSArray(**cfg.get("bs_array", {}))
    out = {}
    for i, src in enumerate(cfg["sources"]):
        params = dict(src.get("params", {}))
        env = get_environment(src["environment"], numerology=num,
                              bs_array=arr, **params)
        ds = build_dataset(env, src["num_samples"], seed=cfg["seed"] + i,
                           executor=executor, progress=True)
        label = src.get("label", src["environment"])
        first = int(src.get("validation_from", 0))
        if not 0 <= first < src["num_samples"]:
            raise ValueError(f"{label}: `validation_from`={first!r} must be "
                             f"in [0, num_samples={src['num_samples']})")
        held_out = cfg.get("max_validation", 500)
        idx = {"train": ds.splits["train"],
               "validation": ds.splits["validation"][
                   ds.splits["validation"] >= first][:held_out]}
        if test:
            idx["test"] = ds.splits["test"][ds.splits["test"] >= first][
                :held_out]
        parts = []
        for split, which in idx.items():
            h = ds.subset(which).as_matrix()
            imgs = [csi_image(h[j:j + 1024], cfg["num_taps"])[0].numpy()
                    for j in range(0, len(h), 1024)]
            parts.append(np.concatenate(imgs).astype(np.float32))
        out[label] = tuple(parts)
        print(f"{label}: " + " / ".join(f"{len(p)} {k}" for k, p in
                                        zip(idx, parts)), flush=True)
    return out


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
    for f in ("model.weights.h5", "log.csv"):
        if not os.path.exists(os.path.join(run, f)):
            raise FileNotFoundError(f"`{key}`: the run in {run} has no {f}")
    return run, state


def main():
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
    args = ap.parse_args()
    with open(args.config, encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    check_config(cfg)
    name = cfg["name"]
    out = args.out or os.path.join("results", "pretrain", name)
    os.makedirs(out, exist_ok=True)
    keras.utils.set_random_seed(cfg["seed"])
    ckpt_w = os.path.join(out, "model.weights.h5")
    ckpt_state = os.path.join(out, "state.json")
    ckpt_opt = os.path.join(out, "optimizer.npz")
    resumed = os.path.exists(ckpt_state)
    if resumed:
        with open(ckpt_state, encoding="utf-8") as f:
            state = json.load(f)
        # A run directory left by another config (e.g. a renamed phase)
        if state.get("name", name) != name or (
                cfg.get("continue_from") and "phase_start" not in state):
            raise ValueError(f"{out} holds a run of another config "
                             f"({state.get('name', 'a single-phase run')!r}"
                             f"); move it or pass another --out")
    elif args.export_only:
        raise FileNotFoundError(f"--export-only: no checkpoint in {out}")
    shipped, shipped_parent = None, False
    if not resumed and args.init_from_package and os.path.exists(
            os.path.join(WEIGHTS_DIR, f"{name}.weights.h5")):
        with open(os.path.join(WEIGHTS_DIR, f"{name}.json"),
                  encoding="utf-8") as f:
            shipped = json.load(f)
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
            _, parent = parent_config(cfg, args.config)
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
            shipped_parent = True
    parent_run = init_run = None
    if cfg.get("continue_from") and not resumed and shipped is None:
        parent_run, parent_state = finished_parent(cfg, args.config, out)
    if str(cfg.get("init_from", "")).endswith(".yaml") and not resumed \
            and shipped is None:
        init_run, _ = finished_parent(cfg, args.config, out, "init_from")

    data = load_images(cfg, executor=args.data_executor)
    labels = list(data)
    train = np.concatenate([data[k][0] for k in labels])
    sizes = [len(data[k][0]) for k in labels]
    enc, dec, model = build(cfg)
    opt = keras.optimizers.AdamW(schedule(cfg),
                                 weight_decay=cfg["optim"].get("weight_decay",
                                                               1e-4),
                                 clipnorm=1.0)
    opt.build(model.trainable_variables)
    print(f"{name}: {model.count_params():,} parameters, "
          f"{enc.payload_bits} feedback bits, {len(train)} training images",
          flush=True)

    step, elapsed, history = 0, 0.0, []
    phase_start = 0        # the step this phase started at (continue_from)
    if resumed:
        phase_start = state.get("phase_start", 0)
        model.load_weights(ckpt_w)
        with np.load(ckpt_opt) as z:
            for v, k in zip(opt.variables, sorted(z.files,
                                                  key=lambda s: int(s[1:]))):
                v.assign(z[k])
        step, elapsed = state["step"], state["elapsed_s"]
        print(f"resumed at step {step} ({elapsed / 60:.1f} min)", flush=True)
    elif shipped is not None:
        model.load_weights(os.path.join(WEIGHTS_DIR, f"{name}.weights.h5"))
        step, elapsed = shipped["steps"], shipped["wall_time_s"]
        history = shipped.get("history", [])
        if shipped_parent:
            # This phase starts where the shipped parent phase ended
            phase_start = step
            print(f"continuing the shipped parent phase "
                  f"from step {step} ({elapsed / 60:.1f} min)", flush=True)
        else:
            phase_start = shipped.get("phase_start", 0)
            # The LR schedule continues where the shipped phase stopped
            opt.iterations.assign(step - phase_start)
            print(f"warm restart from the shipped weights at step {step}",
                  flush=True)
    elif parent_run:
        model.load_weights(os.path.join(parent_run, "model.weights.h5"))
        history = pd.read_csv(os.path.join(parent_run, "log.csv")) \
            .to_dict("records")
        step, elapsed = parent_state["step"], parent_state["elapsed_s"]
        phase_start = step
        print(f"continuing {parent_run} from step {step} "
              f"({elapsed / 60:.1f} min)", flush=True)
    else:
        if init_run:
            # Warm start from the finished run of another config with the
            # same model (e.g. a CR 1/16 run for a CR 1/32 LAM)
            model.load_weights(os.path.join(init_run, "model.weights.h5"))
            print(f"initialised from {init_run}", flush=True)
        elif cfg.get("init_from"):
            # Warm start from another shipped model of the same architecture
            # (e.g. the CR 1/16 LAM for a CR 1/32 LAM)
            with open(os.path.join(WEIGHTS_DIR, f"{cfg['init_from']}.json"),
                      encoding="utf-8") as f:
                other = json.load(f)
            if other["decoder"] != dec.get_config():
                raise ValueError(f"`init_from`={cfg['init_from']!r} has a "
                                 "different decoder configuration")
            model.load_weights(os.path.join(WEIGHTS_DIR,
                                            f"{cfg['init_from']}.weights.h5"))
            print(f"initialised from {cfg['init_from']}", flush=True)
        if getattr(dec, "code_dim", 0) and cfg.get("init_lift", True):
            # Start the LAM's lift at the LMMSE decoder of the pooled sources
            gain, _ = lmmse_gain(enc, train)
            dec.init_linear_inverse(enc.projection, gain)
            print("lift initialised to the pooled-source LMMSE decoder",
                  flush=True)

    @tf.function(jit_compile=True)
    def train_step(x):
        x0 = enc(x)
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.reduce_sum((dec(x0) - x) ** 2,
                                                axis=[1, 2, 3]))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    @tf.function(jit_compile=True)
    def val_err(x):
        return tf.reduce_sum((dec(enc(x)) - x) ** 2, axis=[1, 2, 3])

    def evaluate():
        return {f"val_nmse_db/{k}": float(10 * np.log10(np.mean(np.concatenate(
            [val_err(data[k][1][j:j + 256]).numpy()
             for j in range(0, len(data[k][1]), 256)]))))
            for k in labels}

    def checkpoint():
        tmp = ckpt_w + ".tmp.weights.h5"
        model.save_weights(tmp)
        os.replace(tmp, ckpt_w)
        with atomic_path(ckpt_opt) as p:
            with open(p, "wb") as f:
                np.savez(f, **{f"v{i}": v.numpy()
                               for i, v in enumerate(opt.variables)})
        with atomic_path(ckpt_state) as p:
            with open(p, "w", encoding="utf-8") as f:
                json.dump({"name": name, "step": step, "elapsed_s": elapsed,
                           "phase_start": phase_start}, f)

    o = cfg["optim"]
    log_path = os.path.join(out, "log.csv")
    if resumed and os.path.exists(log_path):
        # Rows written after the last checkpoint are evaluated again
        log = pd.read_csv(log_path)
        log = log[log.step <= step]
    else:
        log = pd.DataFrame(history)
    if len(log) and not os.path.exists(log_path):  # a carried-over log
        # survives a kill before this phase's first evaluation
        with atomic_path(log_path) as p:
            log.to_csv(p, index=False)
    start, losses = time.perf_counter() - elapsed, []
    session_start = time.perf_counter()
    last = phase_start + o["steps"]
    while step < last and not args.export_only:
        x = tf.constant(train[draw_batch(sizes, o["batch_size"],
                                         cfg.get("sampling", "pooled"),
                                         [cfg["seed"], step])])
        losses.append(float(train_step(x)))
        step += 1
        elapsed = time.perf_counter() - start
        done = step == last
        if (step - phase_start) % o["eval_every"] == 0 or done:
            row = {"step": step, "elapsed_s": elapsed,
                   "train_nmse_db": 10 * np.log10(np.mean(losses)),
                   **evaluate()}
            losses = []
            log = pd.concat([log, pd.DataFrame([row])], ignore_index=True)
            with atomic_path(log_path) as p:
                log.to_csv(p, index=False)
            print(" ".join(f"{k.split('/')[-1]}={v:.2f}" if isinstance(v, float)
                           else f"{k}={v}" for k, v in row.items()),
                  flush=True)
        over = args.max_minutes is not None and \
            time.perf_counter() - session_start > 60 * args.max_minutes
        if (step - phase_start) % o["checkpoint_every"] == 0 or done or over:
            checkpoint()
        if over:
            print(f"time limit reached at step {step}; rerun to resume")
            break

    if args.export or args.export_only:
        os.makedirs(WEIGHTS_DIR, exist_ok=True)
        final = evaluate()
        record = {"name": name, "model": cfg["model"],
                  "encoder": enc.get_config(), "decoder": dec.get_config(),
                  "num_parameters": int(model.count_params()),
                  "payload_bits": enc.payload_bits,
                  "steps": step, "wall_time_s": elapsed,
                  "phase_start": phase_start,
                  "sources": [s["environment"] for s in cfg["sources"]],
                  "val_nmse_db": {k.split("/")[-1]: v
                                  for k, v in final.items()},
                  "config": cfg,
                  "history": log.to_dict("records")}
        target = os.path.join(WEIGHTS_DIR, f"{name}.weights.h5")
        save_compact_weights(keras.Model(model.inputs, model.outputs), target)
        write_pretrained_record(record, target)
        print(f"exported {target}")


if __name__ == "__main__":
    main()
