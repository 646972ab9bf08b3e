#
# SPDX-License-Identifier: Apache-2.0
#
"""The LAM adapted to a target environment (LASCO, E-LASCO, fine-tuning) as a CSI path of the link"""

import numpy as np

from lasco_sionna.channels.config import BSArray, Numerology
from lasco_sionna.channels.dataset import build_dataset
from lasco_sionna.channels.environment import get_environment
from lasco_sionna.collab.adapt import adapt
from lasco_sionna.collab.combiner import CollaborativeDecoder
from lasco_sionna.collab.finetune import finetune
from lasco_sionna.collab.linear import adapt_linear
from lasco_sionna.collab.methods import get_adaptation_method
from lasco_sionna.csi.feedback import (fill_from_context,
                                       register_csi_feedback)
from lasco_sionna.csi.learned import LearnedCSIFeedback
from lasco_sionna.models.front_end import image_front_end
from lasco_sionna.models.pretrained import load_pretrained
from lasco_sionna.utils.validation import check_positive, split_spec

def adapted_csi_feedback(num_bs_ant, fft_size, precision=None, context=None,
                         environment=None, numerology=None, bs_array=None,
                         model="lam-cr16", reference="sam-ref-cr16",
                         method="elasco_linear", num_samples=300,
                         num_val=300, seed=101, steps=1000, norm_bits=8):
    # pylint: disable=line-too-long
    r"""CSI path of the shipped LAM adapted to a target environment

    Draws ``num_samples`` training and ``num_val`` validation channels of
    ``environment`` (cached dataset, seed ``seed``: use a seed the link's
    own channels do not use; a quarter of the draw is its test split and is
    not used), adapts with ``method`` and returns the
    learned CSI path (UE encoder of ``model``, adapted decoder at the BS).
    Registered as the CSI path ``"adapted"``, with a context:
    ``environment``, ``numerology`` and ``bs_array`` default to those of
    ``context`` (a sweep point passes its own,
    :mod:`lasco_sionna.link.point`). The adaptation outcome is kept in the
    path's ``adaptation`` attribute.

    Parameters
    ----------
    num_bs_ant, fft_size : `int`
        Link dimensions

    precision : `None` (default) | "single" | "double"
        Precision of the outputs

    context : `None` (default) | :class:`~lasco_sionna.csi.CSIContext`
        Where the path is used: fills ``environment``, ``numerology`` and
        ``bs_array`` when they are `None`

    environment : `str` | `dict`
        Target environment: name or ``{"name": ..., **params}``

    numerology, bs_array : `dict` | `None`
        :class:`~lasco_sionna.channels.Numerology` and
        :class:`~lasco_sionna.channels.BSArray` fields

    model, reference : `str`, (default "lam-cr16", "sam-ref-cr16")
        Shipped LAM and reference SAM (same encoder)

    method : `str`, (default "elasco_linear")
        One of :data:`~lasco_sionna.collab.methods.ADAPTATION_METHODS`:
        LASCO/E-LASCO with a trained proxy SAM
        (:func:`~lasco_sionna.collab.adapt`), with linear SAMs
        (:func:`~lasco_sionna.collab.adapt_linear`), trained E-LASCO stacked
        on a linear one, or a fine-tuned LAM copy
        (:func:`~lasco_sionna.collab.finetune`)

    num_samples, num_val : `int`, (default 300, 300)
        Target training / validation channels

    seed : `int`, (default 101)
        Seed of the target draws

    steps : `int`, (default 1000)
        Training steps (trained methods; LoRA draws its initial adapter
        weights from Keras' global seed, ``keras.utils.set_random_seed``)

    norm_bits : `int`, (default 8)
        Bits of the image norm

    Output
    ------
    csi : :class:`~lasco_sionna.csi.LearnedCSIFeedback`
        With the attribute ``adaptation`` (the result object of the method)
    """
    filled = fill_from_context(context, environment=environment,
                               numerology=numerology, bs_array=bs_array)
    environment, numerology, bs_array = (filled["environment"],
                                         filled["numerology"],
                                         filled["bs_array"])
    if environment is None:
        raise ValueError("the 'adapted' CSI path needs the target "
                         "`environment` (or a context that has one; sweep "
                         "points pass theirs)")
    spec = get_adaptation_method(method)
    check_positive("num_samples", num_samples, integer=True)
    check_positive("num_val", num_val, integer=True)
    check_positive("steps", steps, integer=True)
    encoder, lam, lam_record = load_pretrained(model)
    _, ref, ref_record = load_pretrained(reference)
    if ref_record["encoder"] != lam_record["encoder"]:
        raise ValueError(f"`model`={model!r} and `reference`={reference!r} "
                         "were trained with different encoders")
    name, params = split_spec("target environment", environment)
    env = get_environment(name, numerology=Numerology(**(numerology or {})),
                          bs_array=BSArray(**(bs_array or {})), **params)
    # Ray-traced environments are split by location, with the blocks of a
    # scene hashed the same way in every dataset: the training places here
    # (the lowest share <= 1/2 of the block hashes) are training places of
    # any dataset of the scene with a training share >= 1/2, and never test
    # places of one whose test share is <= 1/4 -- e.g. a link's
    # ``dataset_split: test`` with ``dataset_splits: [0.5, 0.25, 0.25]``,
    # whose test UEs then also keep the guard distance from them. A margin
    # covers whole blocks and the guard band; a draw that falls short
    # (few, large blocks in a small scene) is redrawn twice as large, unless
    # a split has no place at all (then more UEs cannot help).
    train_share = min(0.5, 0.75 * num_samples / (num_samples + num_val))
    splits = (train_share, 0.75 - train_share, 0.25)
    want = {"train": num_samples, "validation": num_val}
    size = int(np.ceil((num_samples + num_val) / 0.75 * 1.3))
    for _ in range(4):
        ds = build_dataset(env, size, seed=seed, progress=False,
                           splits=splits)
        short = {s: len(ds.splits[s]) for s in want
                 if len(ds.splits[s]) < want[s]}
        if not short or 0 in short.values():
            break
        size *= 2
    if short:
        raise RuntimeError(f"{name}: a draw of {len(ds)} channels split "
                           f"{list(splits)} has {short} samples, fewer than "
                           f"{want}" + (" (no place of the scene falls in "
                                        "that split)" if 0 in short.values()
                                        else ""))
    # [n, 2, num_ant, num_taps] images and coarse inversions per split
    x, x0 = {}, {}
    for s, n in want.items():
        x[s], x0[s], _ = image_front_end(
            encoder, ds.subset(ds.splits[s][:n]).as_matrix())
    data = (x0["train"], x["train"], x0["validation"], x["validation"])
    if spec.kind in ("linear", "stacked"):
        linear = get_adaptation_method(spec.base) if spec.base else spec
        result = adapt_linear(lam, encoder, x["train"], x0["validation"],
                              x["validation"], **linear.kwargs)
        decoder = result.decoder(lam)
    if spec.kind == "stacked":
        # Trained E-LASCO on the linear form, seen as the opaque "LAM"
        result = adapt(decoder, ref, *data, steps=steps, **spec.kwargs)
        decoder = CollaborativeDecoder(decoder, result.proxy, ref,
                                       result.combiner)
    elif spec.kind == "sam":
        result = adapt(lam, ref, *data, steps=steps, **spec.kwargs)
        decoder = CollaborativeDecoder(lam, result.proxy, ref,
                                       result.combiner)
    elif spec.kind == "finetune":
        result = finetune(lam, *data, steps=steps, **spec.kwargs)
        decoder = result.model
    csi = LearnedCSIFeedback(encoder, decoder, num_bs_ant, fft_size,
                             norm_bits=norm_bits, precision=precision)
    csi.adaptation = result
    return csi


register_csi_feedback("adapted", adapted_csi_feedback, uses_context=True)
