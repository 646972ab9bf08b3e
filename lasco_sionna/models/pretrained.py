#
# SPDX-License-Identifier: Apache-2.0
#
"""Pretrained models shipped with the package (weights trained by ``sims/pretrain.py``)"""

import json
import os

import h5py
import keras
import numpy as np

from lasco_sionna.models.encoder import LinearProjectionEncoder
from lasco_sionna.models.lam import TransformerLAM
from lasco_sionna.models.sam import MixerSAM
from lasco_sionna.utils.io import atomic_path

#: Directory of the shipped ``<name>.weights.h5`` + ``<name>.json`` files
WEIGHTS_DIR = os.path.join(os.path.dirname(__file__), "weights")
_DECODERS = {"lam": TransformerLAM, "sam": MixerSAM}


def list_pretrained():
    """Shipped models

    Output
    ------
    models : `dict`
        ``{name: record}`` where ``record`` holds the model and encoder
        configs, the source environments, steps, wall time and validation
        NMSE per source environment
    """
    out = {}
    if os.path.isdir(WEIGHTS_DIR):
        for fname in sorted(os.listdir(WEIGHTS_DIR)):
            if fname.endswith(".json"):
                with open(os.path.join(WEIGHTS_DIR, fname),
                          encoding="utf-8") as f:
                    out[fname[:-5]] = json.load(f)
    return out


def load_pretrained(name):
    """Load a shipped model (offline)

    Input
    -----
    name : `str`
        e.g. ``"lam-cr16"`` (see :func:`list_pretrained`)

    Output
    ------
    encoder : :class:`~lasco_sionna.models.LinearProjectionEncoder`
        The UE encoder the model was trained with

    decoder : :class:`~lasco_sionna.models.TransformerLAM` | :class:`~lasco_sionna.models.MixerSAM`
        The decoder with its trained weights

    record : `dict`
        Training record
    """
    available = list_pretrained()
    if name not in available:
        raise ValueError(f"unknown pretrained model {name!r}; available: "
                         + (", ".join(available) or "none"))
    record = available[name]
    encoder = LinearProjectionEncoder.from_config(record["encoder"])
    decoder = _DECODERS[record["model"]].from_config(record["decoder"])
    inp = keras.Input((2, encoder.num_ant, encoder.num_taps))
    model = keras.Model(inp, decoder(inp))
    model.load_weights(os.path.join(WEIGHTS_DIR, f"{name}.weights.h5"))
    return encoder, decoder, record


def save_compact_weights(model, path):
    """Save a model's weights for shipping: Keras ``.weights.h5``, float16

    Float32 arrays are stored as float16 (half the size; relative rounding
    error below 1e-3), everything else unchanged. ``model.load_weights``
    reads the file back into the float32 variables. The write is atomic.

    Input
    -----
    model : `keras.Model`
        Built model

    path : `str`
        Destination, ending in ``.weights.h5``
    """
    if not str(path).endswith(".weights.h5"):
        raise ValueError(f"`path` must end in '.weights.h5', got {path!r}")
    full = str(path)[:-len(".weights.h5")] + ".full.tmp.weights.h5"
    model.save_weights(full)
    try:
        with atomic_path(path) as tmp, h5py.File(full, "r") as src, \
                h5py.File(tmp, "w") as dst:
            for k, v in src.attrs.items():
                dst.attrs[k] = v

            def copy(name, obj):
                if isinstance(obj, h5py.Dataset):
                    data = obj[()]
                    if data.dtype == np.float32:
                        data = data.astype(np.float16)
                    dst.create_dataset(name, data=data)
                else:
                    dst.require_group(name)
                for k, v in obj.attrs.items():
                    dst[name].attrs[k] = v
            src.visititems(copy)
    finally:
        os.remove(full)
