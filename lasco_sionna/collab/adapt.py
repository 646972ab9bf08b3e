#
# SPDX-License-Identifier: Apache-2.0
#
"""Adaptation to a target environment with a frozen, black-box LAM (LASCO / E-LASCO)"""

import time
from dataclasses import dataclass

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from lasco_sionna.collab.combiner import CollaborationCombiner
from lasco_sionna.utils.validation import check_choice, check_positive

TRAINING_VARIANTS = ("combined", "proxy_alone")


def cached_outputs(model, x, batch_size=256):
    """Outputs of a (black-box) model, computed once, without gradients

    Input
    -----
    model : `callable`
        Any callable mapping ``[batch, ...]`` to ``[batch, ...]`` (a Keras
        layer, a served model, a plain Python function)

    x : [num, ...], `np.ndarray`
        Inputs

    batch_size : `int`, (default 256)
        Inference batch size

    Output
    ------
    y : [num, ...], `np.float32`
        Outputs
    """
    out = [np.asarray(model(x[i:i + batch_size]), np.float32)
           for i in range(0, len(x), batch_size)]
    return np.concatenate(out)


def _nmse(y, x):
    return tf.reduce_sum((y - x) ** 2, axis=[1, 2, 3]) / \
        tf.reduce_sum(x ** 2, axis=[1, 2, 3])


@dataclass
class AdaptationResult:
    """Outcome of :func:`adapt`

    Parameters
    ----------
    proxy : `keras.layers.Layer`
        Adapted proxy SAM (best validation checkpoint)

    combiner : :class:`~lasco_sionna.collab.CollaborationCombiner`
        Collaboration coefficients (best validation checkpoint)

    history : `pandas.DataFrame`
        ``step, elapsed_s, train_nmse_db, val_nmse_db`` per evaluation

    best_step : `int`
        Step of the selected checkpoint (0 = unadapted, i.e. the LAM)

    val_nmse_db : `float`
        Validation NMSE of the selected checkpoint [dB]

    zero_shot_val_nmse_db : `float`
        Validation NMSE of the LAM alone [dB]

    num_trainable : `int`
        Trainable parameters during adaptation

    wall_time_s : `float`
        Adaptation time (LAM inference on the data included) [s]
    """

    proxy: object
    combiner: object
    history: object
    best_step: int
    val_nmse_db: float
    zero_shot_val_nmse_db: float
    num_trainable: int
    wall_time_s: float


def adapt(lam, reference_sam, x0_train, x_train, x0_val, x_val,
          mode="scalar", variant="combined", steps=1000, batch_size=64,
          learning_rate=1e-3, eval_every=50, seed=0):
    # pylint: disable=line-too-long
    r"""Adapt a proxy SAM (and E-LASCO coefficients) to a target environment

    The LAM is a black box: it is only *called*, once per sample, and its
    outputs are cached; no gradient is ever computed through it, so it can
    be any callable (e.g. a remote service) and its weights cannot change.
    The proxy SAM starts as a copy of the reference SAM, so at step 0 the
    combination equals the LAM's output. By default (``variant="combined"``)
    the proxy is trained *through the combined output*
    ``a f_LAM + b g_P - c g_R``; ``"proxy_alone"`` trains it on its own
    reconstruction (ablation). The checkpoint with the best validation NMSE
    is kept, the unadapted model (step 0) being a candidate, so adaptation
    never ends worse than the LAM on the validation split.

    Input
    -----
    lam : `callable`
        ``[batch, 2, num_ant, num_taps] -> [batch, 2, num_ant, num_taps]``

    reference_sam : `keras.layers.Layer`
        Built reference SAM (left untouched)

    x0_train, x_train : [num_train, 2, num_ant, num_taps], `np.float32`
        Decoder inputs (coarse inversions of the feedback) and true images

    x0_val, x_val : [num_val, 2, num_ant, num_taps], `np.float32`
        Validation split

    mode : "lasco" | "scalar" (default) | "tap" | "antenna"
        Collaboration coefficients (see :class:`CollaborationCombiner`)

    variant : "combined" (default) | "proxy_alone"
        Training target of the proxy SAM

    steps : `int`, (default 1000)
        Optimisation steps

    batch_size : `int`, (default 64)
        Batch size

    learning_rate : `float`, (default 1e-3)
        Adam learning rate

    eval_every : `int`, (default 50)
        Validation period [steps]

    seed : `int`, (default 0)
        Seed of the batch order

    Output
    ------
    result : :class:`AdaptationResult`
    """
    check_choice("mode", mode, ("lasco", "scalar", "tap", "antenna"))
    check_choice("variant", variant, TRAINING_VARIANTS)
    for name, v in (("steps", steps), ("batch_size", batch_size),
                    ("eval_every", eval_every)):
        check_positive(name, v, integer=True, allow_zero=name == "steps")
    check_positive("learning_rate", learning_rate)
    shapes = {np.shape(a)[1:] for a in (x0_train, x_train, x0_val, x_val)}
    if len(shapes) != 1:
        raise ValueError(f"inputs must share the image shape, got {shapes}")
    if len(x_train) != len(x0_train) or len(x_val) != len(x0_val):
        raise ValueError("x0_* and x_* must have the same number of samples")
    t_start = time.perf_counter()
    _, _, num_ant, num_taps = np.shape(x_train)

    # Black-box LAM and frozen reference SAM: cached once
    y_lam_tr, y_lam_val = cached_outputs(lam, x0_train), cached_outputs(
        lam, x0_val)
    y_ref_tr = cached_outputs(reference_sam, x0_train)
    y_ref_val = cached_outputs(reference_sam, x0_val)

    proxy = type(reference_sam).from_config(reference_sam.get_config())
    proxy(x0_train[:1])
    proxy.set_weights(reference_sam.get_weights())
    combiner = CollaborationCombiner(mode, num_ant, num_taps)
    combiner([y_lam_tr[:1]] * 3)
    train_vars = proxy.trainable_weights + combiner.trainable_weights
    num_trainable = int(sum(np.prod(v.shape) for v in train_vars))
    opt = keras.optimizers.Adam(learning_rate)
    opt.build(train_vars)

    @tf.function
    def step_fn(x0, x, y_lam, y_ref):
        with tf.GradientTape() as tape:
            y_p = proxy(x0)
            y = combiner([y_lam, y_p, y_ref]) if variant == "combined" \
                else y_p
            loss = tf.reduce_mean(_nmse(y, x))
        opt.apply_gradients(zip(tape.gradient(loss, train_vars), train_vars))
        return loss

    def validate():
        errs = []
        for i in range(0, len(x_val), 256):
            y = combiner([y_lam_val[i:i + 256], proxy(x0_val[i:i + 256]),
                          y_ref_val[i:i + 256]])
            errs.append(_nmse(y, x_val[i:i + 256]).numpy())
        return float(10 * np.log10(np.mean(np.concatenate(errs))))

    zero_shot = float(10 * np.log10(np.mean(
        _nmse(y_lam_val, x_val).numpy())))
    best = (validate(), 0, proxy.get_weights(), combiner.get_weights())
    rows = [{"step": 0, "elapsed_s": time.perf_counter() - t_start,
             "train_nmse_db": np.nan, "val_nmse_db": best[0]}]
    rng = np.random.default_rng(seed)
    losses = []
    for step in range(1, steps + 1):
        idx = rng.integers(0, len(x_train), batch_size)
        losses.append(float(step_fn(x0_train[idx], x_train[idx],
                                    y_lam_tr[idx], y_ref_tr[idx])))
        if step % eval_every == 0 or step == steps:
            val = validate()
            rows.append({"step": step,
                         "elapsed_s": time.perf_counter() - t_start,
                         "train_nmse_db": 10 * np.log10(np.mean(losses)),
                         "val_nmse_db": val})
            losses = []
            if val < best[0]:
                best = (val, step, proxy.get_weights(),
                        combiner.get_weights())
    proxy.set_weights(best[2])
    combiner.set_weights(best[3])
    return AdaptationResult(proxy=proxy, combiner=combiner,
                            history=pd.DataFrame(rows), best_step=best[1],
                            val_nmse_db=best[0],
                            zero_shot_val_nmse_db=zero_shot,
                            num_trainable=num_trainable,
                            wall_time_s=time.perf_counter() - t_start)
