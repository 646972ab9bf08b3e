#
# SPDX-License-Identifier: Apache-2.0
#
"""One training loop for every CSI decoder: NMSE loss, validation, best-checkpoint selection"""

import json
import os
import time

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from lasco_sionna.utils.io import atomic_path
from lasco_sionna.utils.validation import check_positive


class TrainingStopped(Exception):
    """:func:`fit` stopped at its time limit after writing its checkpoint; run it again to resume"""


def nmse_loss(y, x):
    """[batch], `tf.float32` : NMSE of real images ``y`` w.r.t. ``x``"""
    return tf.reduce_sum((y - x) ** 2, axis=[1, 2, 3]) / \
        tf.reduce_sum(x ** 2, axis=[1, 2, 3])


def fit(predict, variables, train_inputs, train_target, val_inputs,
        val_target, steps=1000, batch_size=64, learning_rate=1e-3,
        eval_every=50, seed=0, jit_compile=False, checkpoint=None,
        fingerprint=None, max_seconds=None):
    # pylint: disable=line-too-long
    r"""Minimise the NMSE of ``predict(*inputs)`` over ``variables``

    The validation NMSE is computed before training (step 0) and every
    ``eval_every`` steps; at the end the variables hold the best validation
    checkpoint (possibly the initial one). With ``checkpoint``, the state
    (variables, optimizer, batch order, log, best checkpoint) is written
    atomically at every evaluation and a run that finds the file resumes
    from it, with the same result as an uninterrupted run.

    Input
    -----
    predict : `callable`
        ``predict(*batch_inputs) -> [batch, 2, num_ant, num_taps]``

    variables : `list` of `keras.Variable`
        Trained variables (everything else stays fixed)

    train_inputs, val_inputs : `tuple` of `np.ndarray`
        Inputs, first dimension = samples

    train_target, val_target : [num, 2, num_ant, num_taps], `np.float32`
        True images

    steps : `int`, (default 1000)
        Optimisation steps (0: only evaluate)

    batch_size : `int`, (default 64)
        Batch size

    learning_rate : `float` | `keras.optimizers.schedules.LearningRateSchedule`, (default 1e-3)
        Adam learning rate, constant or a schedule over the steps

    eval_every : `int`, (default 50)
        Validation period

    seed : `int`, (default 0)
        Seed of the batch order

    jit_compile : `bool`, (default `False`)
        XLA-compile the training step

    checkpoint : `None` (default) | `str`
        ``.npz`` file of the resumable state

    fingerprint : `None` (default) | `str`
        Identity of the run (e.g. its configuration), stored in the
        checkpoint; resuming a checkpoint of another fingerprint raises
        `ValueError`

    max_seconds : `None` (default) | `float`
        Wall time after which training stops at the next evaluation, after
        writing the checkpoint, by raising :class:`TrainingStopped` (needs
        ``checkpoint``)

    Output
    ------
    history : `pandas.DataFrame`
        ``step, elapsed_s, train_nmse_db, val_nmse_db``

    best_step : `int`
        Step of the kept checkpoint
    """
    check_positive("steps", steps, integer=True, allow_zero=True)
    check_positive("batch_size", batch_size, integer=True)
    check_positive("eval_every", eval_every, integer=True)
    if not isinstance(learning_rate,
                      keras.optimizers.schedules.LearningRateSchedule):
        check_positive("learning_rate", learning_rate)
    train_inputs = tuple(np.asarray(a) for a in train_inputs)
    val_inputs = tuple(np.asarray(a) for a in val_inputs)
    num = len(train_target)
    if any(len(a) != num for a in train_inputs) or \
            any(len(a) != len(val_target) for a in val_inputs):
        raise ValueError("inputs and targets must have the same number of "
                         "samples")
    t0 = time.perf_counter()
    opt = keras.optimizers.Adam(learning_rate)
    if variables:
        opt.build(variables)

    @tf.function(jit_compile=jit_compile)
    def step_fn(inputs, target):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(nmse_loss(predict(*inputs), target))
        grads = tape.gradient(loss, variables)
        opt.apply_gradients(zip(grads, variables))
        return loss

    def validate():
        errs = [nmse_loss(predict(*(a[i:i + 256] for a in val_inputs)),
                          val_target[i:i + 256]).numpy()
                for i in range(0, len(val_target), 256)]
        return float(10 * np.log10(np.mean(np.concatenate(errs))))

    if max_seconds is not None and checkpoint is None:
        raise ValueError("`max_seconds` needs a `checkpoint` to resume from")
    rng = np.random.default_rng(seed)
    start = 0
    if checkpoint is not None and os.path.exists(checkpoint):
        start, rows, best = _load_checkpoint(checkpoint, fingerprint,
                                             variables, opt, rng)
        t0 -= rows[-1]["elapsed_s"]
    else:
        best = (validate(), 0, [v.numpy() for v in variables])
        rows = [{"step": 0, "elapsed_s": time.perf_counter() - t0,
                 "train_nmse_db": np.nan, "val_nmse_db": best[0]}]
    session = time.perf_counter()
    losses = []
    for step in range(start + 1, steps + 1):
        idx = rng.integers(0, num, batch_size)
        losses.append(float(step_fn(tuple(a[idx] for a in train_inputs),
                                    train_target[idx])))
        if step % eval_every == 0 or step == steps:
            val = validate()
            rows.append({"step": step, "elapsed_s": time.perf_counter() - t0,
                         "train_nmse_db": 10 * np.log10(np.mean(losses)),
                         "val_nmse_db": val})
            losses = []
            if val < best[0]:
                best = (val, step, [v.numpy() for v in variables])
            if checkpoint is not None:
                _save_checkpoint(checkpoint, fingerprint, step, rows, best,
                                 variables, opt, rng)
            if max_seconds is not None and step < steps and \
                    time.perf_counter() - session > max_seconds:
                raise TrainingStopped(f"stopped at step {step} of {steps} "
                                      f"after {max_seconds:g} s; "
                                      f"{checkpoint} resumes it")
    for v, w in zip(variables, best[2]):
        v.assign(w)
    return pd.DataFrame(rows), best[1]


def _save_checkpoint(path, fingerprint, step, rows, best, variables, opt,
                     rng):
    """Write the resumable state of :func:`fit` atomically"""
    meta = {"fingerprint": fingerprint, "step": step, "rows": rows,
            "best_val": best[0], "best_step": best[1],
            "rng": rng.bit_generator.state}
    arrays = {f"v{i}": v.numpy() for i, v in enumerate(variables)}
    arrays.update({f"o{i}": v.numpy() for i, v in enumerate(opt.variables)})
    arrays.update({f"b{i}": w for i, w in enumerate(best[2])})
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, meta=np.array(json.dumps(meta)), **arrays)


def _load_checkpoint(path, fingerprint, variables, opt, rng):
    """Restore the state written by :func:`_save_checkpoint`; returns ``step, rows, best``"""
    with np.load(path) as z:
        meta = json.loads(str(z["meta"]))
        if meta["fingerprint"] != fingerprint:
            raise ValueError(f"{path} is a checkpoint of another run "
                             "(another configuration); move it to start "
                             "afresh")
        for i, v in enumerate(variables):
            v.assign(z[f"v{i}"])
        for i, v in enumerate(opt.variables):
            v.assign(z[f"o{i}"])
        best = (meta["best_val"], meta["best_step"],
                [z[f"b{i}"] for i in range(len(variables))])
    rng.bit_generator.state = meta["rng"]
    return meta["step"], meta["rows"], best
