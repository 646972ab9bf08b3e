#
# SPDX-License-Identifier: Apache-2.0
#
"""Fine-tuning baselines of the LAM: full, last blocks, low-rank adapters (LoRA)"""

import time
from dataclasses import dataclass

import keras
import numpy as np

from lasco_sionna.models.training import fit
from lasco_sionna.utils.validation import check_choice, check_positive

FINETUNE_VARIANTS = ("full", "last_blocks", "lora")


@dataclass
class FineTuneResult:
    """Outcome of :func:`finetune` (fields as in :class:`AdaptationResult`)"""

    model: object
    history: object
    best_step: int
    val_nmse_db: float
    num_trainable: int
    wall_time_s: float


def copy_layer(layer, example_input):
    """A fresh copy of a built Keras layer, same config and weights"""
    twin = type(layer).from_config(layer.get_config())
    twin(example_input)
    twin.set_weights(layer.get_weights())
    return twin


def finetune(lam, x0_train, x_train, x0_val, x_val, variant="full",
             num_blocks=1, lora_rank=4, steps=1000, batch_size=64,
             learning_rate=1e-4, eval_every=50, seed=0):
    # pylint: disable=line-too-long
    r"""Fine-tune a *copy* of the LAM on target data (white-box baselines)

    Input
    -----
    lam : :class:`~lasco_sionna.models.TransformerLAM`
        The LAM (left untouched; a copy is trained)

    x0_train, x_train, x0_val, x_val : [num, 2, num_ant, num_taps], `np.float32`
        Decoder inputs and true images (training / validation)

    variant : "full" (default) | "last_blocks" | "lora"
        Train all weights; only the last ``num_blocks`` transformer blocks,
        the final norm and the head; or rank-``lora_rank`` adapters on every
        dense projection (Keras ``enable_lora``, the base weights frozen)

    num_blocks : `int`, (default 1)
        Blocks trained by ``"last_blocks"``

    lora_rank : `int`, (default 4)
        Rank of the adapters of ``"lora"``

    steps, batch_size, learning_rate, eval_every, seed :
        As in :func:`~lasco_sionna.models.fit`

    Output
    ------
    result : :class:`FineTuneResult`
    """
    check_choice("variant", variant, FINETUNE_VARIANTS)
    check_positive("num_blocks", num_blocks, integer=True)
    check_positive("lora_rank", lora_rank, integer=True)
    t0 = time.perf_counter()
    model = copy_layer(lam, x0_train[:1])
    if variant == "full":
        variables = model.trainable_weights
    elif variant == "last_blocks":
        if num_blocks > len(model.blocks):
            raise ValueError(f"`num_blocks`={num_blocks} exceeds the "
                             f"{len(model.blocks)} blocks of the LAM")
        layers = model.blocks[-num_blocks:] + [model.norm, model.head]
        variables = [w for layer in layers for w in layer.trainable_weights]
    else:
        for layer in model._flatten_layers():  # pylint: disable=protected-access
            if isinstance(layer, (keras.layers.Dense,
                                  keras.layers.EinsumDense)):
                layer.enable_lora(lora_rank)
        variables = [w for w in model.trainable_weights if "lora" in w.path]
    num_trainable = int(sum(np.prod(v.shape) for v in variables))
    history, best = fit(model, variables, (x0_train,), x_train, (x0_val,),
                        x_val, steps=steps, batch_size=batch_size,
                        learning_rate=learning_rate, eval_every=eval_every,
                        seed=seed)
    return FineTuneResult(
        model=model, history=history, best_step=best,
        val_nmse_db=float(history.val_nmse_db[history.step == best].iloc[0]),
        num_trainable=num_trainable, wall_time_s=time.perf_counter() - t0)
