#
# SPDX-License-Identifier: Apache-2.0
#
"""Adaptation to a target environment with a frozen, black-box LAM (LASCO / E-LASCO)"""

import time
from dataclasses import dataclass

import numpy as np

from lasco_sionna.collab.combiner import CollaborationCombiner
from lasco_sionna.models.training import fit, nmse_loss
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
    train_vars = proxy.trainable_weights + (
        combiner.trainable_weights if variant == "combined" else [])
    num_trainable = int(sum(np.prod(v.shape) for v in train_vars))

    if variant == "combined":
        def predict(x0, y_lam, y_ref):
            return combiner([y_lam, proxy(x0), y_ref])
    else:
        def predict(x0, y_lam, y_ref):
            del y_lam, y_ref
            return proxy(x0)

    history, best_step = fit(
        predict, train_vars, (x0_train, y_lam_tr, y_ref_tr), x_train,
        (x0_val, y_lam_val, y_ref_val), x_val, steps=steps,
        batch_size=batch_size, learning_rate=learning_rate,
        eval_every=eval_every, seed=seed)
    zero_shot = float(10 * np.log10(np.mean(
        nmse_loss(y_lam_val, x_val).numpy())))
    val = history.val_nmse_db[history.step == best_step].iloc[0]
    if variant == "proxy_alone":
        # The ablation is judged by its combined output; the unadapted
        # proxy (= reference, i.e. the LAM alone) stays a candidate
        val = float(10 * np.log10(np.mean(np.concatenate([
            nmse_loss(combiner([y_lam_val[i:i + 256],
                                proxy(x0_val[i:i + 256]),
                                y_ref_val[i:i + 256]]),
                      x_val[i:i + 256]).numpy()
            for i in range(0, len(x_val), 256)]))))
        if val > zero_shot:
            proxy.set_weights(reference_sam.get_weights())
            val, best_step = zero_shot, 0
    return AdaptationResult(proxy=proxy, combiner=combiner,
                            history=history, best_step=best_step,
                            val_nmse_db=float(val),
                            zero_shot_val_nmse_db=zero_shot,
                            num_trainable=num_trainable,
                            wall_time_s=time.perf_counter() - t_start)
