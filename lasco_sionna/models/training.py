#
# SPDX-License-Identifier: Apache-2.0
#
"""One training loop for every CSI decoder: a compiled optimisation step, periodic validation and checkpoints (:func:`training_loop`), and :func:`fit` (NMSE loss, best-checkpoint selection) on top of it"""

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


def squared_error_loss(y, x):
    """[batch], `tf.float32` : Squared error of real images ``y`` w.r.t. ``x`` (the NMSE of unit-norm images, e.g. :func:`~lasco_sionna.csi.csi_image`'s)"""
    return tf.reduce_sum((y - x) ** 2, axis=[1, 2, 3])


def train_step_fn(predict, variables, optimizer, loss=nmse_loss,
                  jit_compile=False):
    # pylint: disable=line-too-long
    r"""One optimisation step of ``predict`` over ``variables``, as a `tf.function`

    Input
    -----
    predict : `callable`
        ``predict(*inputs) -> [batch, 2, num_ant, num_taps]``

    variables : `list` of `keras.Variable`
        Trained variables

    optimizer : `keras.optimizers.Optimizer`
        Built for ``variables``

    loss : `callable`, (default :func:`nmse_loss`)
        ``loss(prediction, target) -> [batch]``; the step minimises its mean

    jit_compile : `bool`, (default `False`)
        XLA-compile the step

    Output
    ------
    step : `callable`
        ``step(inputs, target) -> []`` mean loss of the batch before the
        update; ``inputs`` is a `tuple` of tensors ``[batch, ...]``,
        ``target`` ``[batch, 2, num_ant, num_taps]``
    """
    @tf.function(jit_compile=jit_compile)
    def step(inputs, target):
        with tf.GradientTape() as tape:
            value = tf.reduce_mean(loss(predict(*inputs), target))
        grads = tape.gradient(value, variables)
        optimizer.apply_gradients(zip(grads, variables))
        return value
    return step


def training_loop(step, batch, evaluate, first_step, last_step, eval_every,
                  phase_start=0, elapsed_s=0.0, on_eval=None,
                  checkpoint=None, checkpoint_every=None, max_seconds=None):
    # pylint: disable=line-too-long
    r"""Run optimisation steps ``first_step + 1 .. last_step`` with periodic evaluation and checkpoints

    After step ``s`` the loop evaluates if ``(s - phase_start) %
    eval_every == 0`` or ``s == last_step``, and checkpoints if ``(s -
    phase_start) % checkpoint_every == 0``, ``s == last_step`` or the time
    limit is reached (then it stops). Evaluations and checkpoints are
    therefore at the same steps whether a run goes through or is stopped and
    resumed from a checkpoint.

    Input
    -----
    step : `callable`
        ``step(*batch(s)) -> []`` training loss of the batch (e.g.
        :func:`train_step_fn`'s)

    batch : `callable`
        ``batch(s)`` -> the arguments of ``step`` for the step after ``s``
        steps (``s = first_step .. last_step - 1``, in order)

    evaluate : `callable`
        ``evaluate() -> dict`` of validation metrics

    first_step, last_step : `int`
        Steps already done, and the step to stop after

    eval_every : `int`
        Evaluation period [steps]

    phase_start : `int`, (default 0)
        Step the periods count from

    elapsed_s : `float`, (default 0.0)
        Wall time already spent (a resumed run's) [s]

    on_eval : `None` (default) | `callable`
        ``on_eval(row)`` with ``row`` = ``{"step", "elapsed_s",
        "train_nmse_db"`` (``10 log10`` of the mean loss since the last
        evaluation) ``, **evaluate()}``

    checkpoint : `None` (default) | `callable`
        ``checkpoint(step, elapsed_s)``

    checkpoint_every : `None` (default) | `int`
        Checkpoint period [steps] (needed with ``checkpoint``)

    max_seconds : `None` (default) | `float`
        Stop (after a checkpoint) once this loop has run this long [s]

    Output
    ------
    step : `int`
        The last step done (``< last_step`` if stopped by the time limit)

    elapsed_s : `float`
        Wall time including ``elapsed_s`` [s]
    """
    check_positive("eval_every", eval_every, integer=True)
    if checkpoint is not None:
        check_positive("checkpoint_every", checkpoint_every, integer=True)
    t0 = time.perf_counter() - elapsed_s
    session_start = time.perf_counter()
    s, elapsed, losses = first_step, elapsed_s, []
    while s < last_step:
        losses.append(float(step(*batch(s))))
        s += 1
        elapsed = time.perf_counter() - t0
        done = s == last_step
        if (s - phase_start) % eval_every == 0 or done:
            row = {"step": s, "elapsed_s": elapsed,
                   "train_nmse_db": 10 * np.log10(np.mean(losses)),
                   **evaluate()}
            losses = []
            if on_eval is not None:
                on_eval(row)
        over = max_seconds is not None and \
            time.perf_counter() - session_start > max_seconds
        if checkpoint is not None and (
                (s - phase_start) % checkpoint_every == 0 or done or over):
            checkpoint(s, elapsed)
        if over:
            break
    return s, elapsed


def fit(predict, variables, train_inputs, train_target, val_inputs,
        val_target, steps=1000, batch_size=64, learning_rate=1e-3,
        eval_every=50, seed=0, jit_compile=False, checkpoint=None,
        fingerprint=None, max_seconds=None):
    # pylint: disable=line-too-long
    r"""Minimise the NMSE of ``predict(*inputs)`` over ``variables``

    The validation NMSE is computed before training (step 0) and every
    ``eval_every`` steps; at the end the variables hold the best validation
    checkpoint (possibly the initial one). With ``checkpoint``, the state
    (variables, optimizer, batch order, log, best weights) is written
    atomically at every evaluation (and when the time limit stops the run),
    and a run that finds the file resumes from it: the same batches, weights
    and validation NMSE as an uninterrupted run (only the ``train_nmse_db``
    of the first evaluation after a stop between evaluations averages fewer
    steps).

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
        Wall time after which training stops, after writing the checkpoint,
        by raising :class:`TrainingStopped` (needs ``checkpoint``)

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
    if max_seconds is not None and checkpoint is None:
        raise ValueError("`max_seconds` needs a `checkpoint` to resume from")
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
    step_fn = train_step_fn(predict, variables, opt, nmse_loss, jit_compile)

    def validate():
        errs = [nmse_loss(predict(*(a[i:i + 256] for a in val_inputs)),
                          val_target[i:i + 256]).numpy()
                for i in range(0, len(val_target), 256)]
        return {"val_nmse_db": float(10 * np.log10(np.mean(
            np.concatenate(errs))))}

    rng = np.random.default_rng(seed)
    start = 0
    if checkpoint is not None and os.path.exists(checkpoint):
        start, elapsed, rows, best = _load_checkpoint(
            checkpoint, fingerprint, variables, opt, rng)
        t0 -= elapsed
    else:
        val = validate()["val_nmse_db"]
        best = {"val": val, "step": 0,
                "weights": [v.numpy() for v in variables]}
        rows = [{"step": 0, "elapsed_s": time.perf_counter() - t0,
                 "train_nmse_db": np.nan, "val_nmse_db": val}]

    def batch(_):
        idx = rng.integers(0, num, batch_size)
        return tuple(a[idx] for a in train_inputs), train_target[idx]

    def keep(row):
        rows.append(row)
        if row["val_nmse_db"] < best["val"]:
            best.update(val=row["val_nmse_db"], step=row["step"],
                        weights=[v.numpy() for v in variables])

    def save(step, elapsed):
        _save_checkpoint(checkpoint, fingerprint, step, elapsed, rows, best,
                         variables, opt, rng)

    done, _ = training_loop(
        step_fn, batch, validate, start, steps, eval_every,
        elapsed_s=time.perf_counter() - t0, on_eval=keep,
        checkpoint=None if checkpoint is None else save,
        checkpoint_every=eval_every, max_seconds=max_seconds)
    if done < steps:
        raise TrainingStopped(f"stopped at step {done} of {steps} after "
                              f"{max_seconds:g} s; {checkpoint} resumes it")
    for v, w in zip(variables, best["weights"]):
        v.assign(w)
    return pd.DataFrame(rows), best["step"]


def _save_checkpoint(path, fingerprint, step, elapsed, rows, best, variables,
                     opt, rng):
    """Write the resumable state of :func:`fit` atomically"""
    meta = {"fingerprint": fingerprint, "step": step, "elapsed_s": elapsed,
            "rows": rows, "best_val": best["val"], "best_step": best["step"],
            "rng": rng.bit_generator.state}
    arrays = {f"v{i}": v.numpy() for i, v in enumerate(variables)}
    arrays.update({f"o{i}": v.numpy() for i, v in enumerate(opt.variables)})
    arrays.update({f"b{i}": w for i, w in enumerate(best["weights"])})
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, meta=np.array(json.dumps(meta)), **arrays)


def _load_checkpoint(path, fingerprint, variables, opt, rng):
    """Restore the state written by :func:`_save_checkpoint`; returns ``step, elapsed_s, rows, best``"""
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
        best = {"val": meta["best_val"], "step": meta["best_step"],
                "weights": [z[f"b{i}"] for i in range(len(variables))]}
    rng.bit_generator.state = meta["rng"]
    return meta["step"], meta["elapsed_s"], meta["rows"], best
