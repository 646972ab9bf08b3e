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


def _covariance_path(num_ant, num_taps):
    return os.path.join(WEIGHTS_DIR, f"source-covariance-{num_ant}x{num_taps}.h5")


def save_source_covariance(covariance, num_ant, num_taps, attrs=None,
                           path=None):
    """Ship the second-moment matrix of the pooled source CSI images

    Stored compactly: the upper triangle of ``D * C`` (``D = 2 num_ant
    num_taps``, so the diagonal is about 1) as float16, gzip-compressed;
    the write is atomic. Read back with :func:`load_source_covariance`.

    Input
    -----
    covariance : [D, D], `np.ndarray`
        Symmetric second-moment matrix of vectorised normalised images

    num_ant, num_taps : `int`
        Image size (``D = 2 num_ant num_taps``)

    attrs : `dict` | `None`
        Provenance stored with the matrix (sources, number of images, ...)

    path : `str` | `None`
        Destination; `None` ships it in the package's weights directory
    """
    dim = 2 * int(num_ant) * int(num_taps)
    c = np.asarray(covariance, np.float64)
    if c.shape != (dim, dim) or not np.allclose(c, c.T, atol=1e-9):
        raise ValueError(f"`covariance` must be a symmetric [{dim}, {dim}] "
                         f"matrix for num_ant={num_ant}, num_taps={num_taps}"
                         f", got shape {c.shape}")
    if not (np.all(np.isfinite(c)) and abs(np.trace(c) - 1.0) < 0.1):
        raise ValueError("`covariance` must be finite with trace about 1 "
                         "(the second moment of unit-norm images), got trace "
                         f"{np.trace(c)!r}")
    packed = (dim * c[np.triu_indices(dim)]).astype(np.float16)
    with atomic_path(path or _covariance_path(num_ant, num_taps)) as tmp, \
            h5py.File(tmp, "w") as f:
        f.create_dataset("upper_scaled", data=packed, compression="gzip",
                         compression_opts=9, shuffle=True)
        f.attrs["num_ant"], f.attrs["num_taps"] = int(num_ant), int(num_taps)
        f.attrs["provenance"] = json.dumps(attrs or {})


def load_source_covariance(num_ant=32, num_taps=32, path=None):
    """Second-moment matrix of the pooled source CSI images (shipped)

    The knowledge a *linear* reference SAM needs: the LMMSE decoder of the
    source environments and the shrinkage target of a target covariance
    (:func:`~lasco_sionna.collab.adapt_linear`). Written by
    ``sims/export_source_covariance.py`` from the sources of ``lam-cr16``.

    Input
    -----
    num_ant, num_taps : `int`, (default 32, 32)
        Image size

    path : `str` | `None`
        File written by :func:`save_source_covariance`; `None` reads the
        shipped one

    Output
    ------
    covariance : [D, D], `np.float64`
        ``E[vec(x) vec(x)^T]`` of the normalised images (trace about 1)

    provenance : `dict`
        Sources and number of images it was estimated from
    """
    if path is not None and not os.path.exists(path):
        raise FileNotFoundError(f"source covariance file {path!r} does not "
                                "exist")
    path = path or _covariance_path(num_ant, num_taps)
    if not os.path.exists(path):
        shipped = sorted(f for f in os.listdir(WEIGHTS_DIR)
                         if f.startswith("source-covariance-"))
        raise ValueError(f"no shipped source covariance for num_ant={num_ant}"
                         f", num_taps={num_taps}; shipped: "
                         + (", ".join(shipped) or "none"))
    dim = 2 * int(num_ant) * int(num_taps)
    with h5py.File(path, "r") as f:
        if (f.attrs["num_ant"], f.attrs["num_taps"]) != (num_ant, num_taps):
            raise ValueError(f"{path} holds a {f.attrs['num_ant']}x"
                             f"{f.attrs['num_taps']} covariance, asked for "
                             f"num_ant={num_ant}, num_taps={num_taps}")
        packed = f["upper_scaled"][()].astype(np.float64) / dim
        provenance = json.loads(f.attrs["provenance"])
    c = np.zeros((dim, dim))
    c[np.triu_indices(dim)] = packed
    # Mirror the upper triangle: [D, D]
    c = c + c.T - np.diag(np.diag(c))
    return c, provenance
