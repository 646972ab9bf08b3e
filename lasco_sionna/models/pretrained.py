#
# SPDX-License-Identifier: Apache-2.0
#
"""Pretrained models shipped with the package (weights trained by ``sims/pretrain.py``)"""

import json
import os
import warnings

import h5py
import keras
import numpy as np

from lasco_sionna.models.encoder import LinearProjectionEncoder
from lasco_sionna.models.lam import TransformerLAM
from lasco_sionna.models.sam import MixerSAM
from lasco_sionna.utils.io import atomic_path, file_sha256

#: Directory of the shipped ``<name>.weights.h5`` + ``<name>.json`` files
WEIGHTS_DIR = os.path.join(os.path.dirname(__file__), "weights")
_DECODERS = {"lam": TransformerLAM, "sam": MixerSAM}


#: Command that writes the SHA-256 of every shipped weights file into its record
STAMP_COMMAND = "python sims/stamp_weights.py"


def _read_record(path):
    """The JSON training record at ``path``; `ValueError` naming the file if unreadable"""
    try:
        with open(path, encoding="utf-8") as f:
            record = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"pretrained record {path} is unreadable: {e}") \
            from e
    if not isinstance(record, dict) or record.get("model") not in _DECODERS:
        raise ValueError(f"pretrained record {path} must be a JSON object "
                         f"with 'model' in {sorted(_DECODERS)}")
    return record


def _record_paths(name_or_path):
    """``(record.json, weights.h5)`` of a shipped name or of a path to either file"""
    path = os.fspath(name_or_path)
    if os.sep not in path and not path.endswith((".json", ".weights.h5")):
        json_path = os.path.join(WEIGHTS_DIR, f"{path}.json")
        if not os.path.isfile(json_path):
            raise ValueError(f"unknown pretrained model {path!r}; available: "
                             + (", ".join(list_pretrained()) or "none")
                             + " (or pass the path of a .json record)")
    else:
        if path.endswith(".weights.h5"):
            path = path[:-len(".weights.h5")] + ".json"
        json_path = path
        if not os.path.isfile(json_path):
            raise FileNotFoundError(f"pretrained record {json_path} does not "
                                    "exist")
    return json_path, json_path[:-len(".json")] + ".weights.h5"


def list_pretrained():
    """Shipped models

    A record that cannot be read is skipped with a warning naming its file.

    Output
    ------
    models : `dict`
        ``{name: record}`` where ``record`` holds the model and encoder
        configs, the source environments, steps, wall time, validation
        NMSE per source environment and the ``sha256`` of the weights file
    """
    out = {}
    if os.path.isdir(WEIGHTS_DIR):
        for fname in sorted(os.listdir(WEIGHTS_DIR)):
            if fname.endswith(".json"):
                try:
                    out[fname[:-5]] = _read_record(
                        os.path.join(WEIGHTS_DIR, fname))
                except ValueError as e:
                    warnings.warn(f"skipped: {e}", stacklevel=2)
    return out


def load_pretrained(name):
    """Load a shipped model (offline), or one exported elsewhere

    The weights file must match the SHA-256 stored in its record.

    Input
    -----
    name : `str` | `os.PathLike`
        A shipped name, e.g. ``"lam-cr16"`` (see :func:`list_pretrained`),
        or the path of a ``<name>.json`` record (or of its
        ``<name>.weights.h5``, next to the record)

    Output
    ------
    encoder : :class:`~lasco_sionna.models.LinearProjectionEncoder`
        The UE encoder the model was trained with

    decoder : :class:`~lasco_sionna.models.TransformerLAM` | :class:`~lasco_sionna.models.MixerSAM`
        The decoder with its trained weights

    record : `dict`
        Training record
    """
    json_path, weights_path = _record_paths(name)
    record = _read_record(json_path)
    check_weights_sha256(record, weights_path)
    encoder = LinearProjectionEncoder.from_config(record["encoder"])
    decoder = _DECODERS[record["model"]].from_config(record["decoder"])
    inp = keras.Input((2, encoder.num_ant, encoder.num_taps))
    model = keras.Model(inp, decoder(inp))
    try:
        model.load_weights(weights_path)
    except (OSError, ValueError, KeyError) as e:
        raise ValueError(f"weights file {weights_path} does not fit the "
                         f"model of {json_path}: {e}") from e
    return encoder, decoder, record


def check_weights_sha256(record, weights_path):
    """Raise `ValueError` naming the file unless ``weights_path`` matches ``record["sha256"]``

    Input
    -----
    record : `dict`
        Training record (see :func:`write_pretrained_record`)

    weights_path : `str`
        The ``.weights.h5`` file
    """
    if not os.path.isfile(weights_path):
        raise FileNotFoundError(f"weights file {weights_path} does not exist")
    if "sha256" not in record:
        raise ValueError(f"the record of {weights_path} has no 'sha256' of "
                         f"the weights; stamp it with `{STAMP_COMMAND}`")
    digest = file_sha256(weights_path)
    if digest != record["sha256"]:
        raise ValueError(f"weights file {weights_path} is corrupted or was "
                         f"replaced: SHA-256 {digest}, its record says "
                         f"{record['sha256']}")


def write_pretrained_record(record, weights_path):
    """Write ``<name>.json`` next to ``<name>.weights.h5``, with the weights' SHA-256

    The write is atomic; ``record`` is not modified.

    Input
    -----
    record : `dict`
        Training record (JSON-serialisable; other values are stored as
        `str`)

    weights_path : `str`
        The ``.weights.h5`` file the record describes

    Output
    ------
    path : `str`
        The record written
    """
    weights_path = os.fspath(weights_path)
    if not weights_path.endswith(".weights.h5"):
        raise ValueError("`weights_path` must end in '.weights.h5', got "
                         f"{weights_path!r}")
    record = {**record, "sha256": file_sha256(weights_path)}
    path = weights_path[:-len(".weights.h5")] + ".json"
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        json.dump(record, f, indent=1, default=str)
    return path


def stamp_weights_sha256(weights_dir=None):
    """(Re)write the SHA-256 of every ``<name>.weights.h5`` into its ``<name>.json``

    For records written before the hash was part of them, or weights
    replaced on purpose. Unreadable records raise `ValueError`.

    Input
    -----
    weights_dir : `None` (default) | `str`
        Folder of the records; `None` is the package's

    Output
    ------
    stamped : `list` of `str`
        Records written
    """
    weights_dir = weights_dir or WEIGHTS_DIR
    stamped = []
    for fname in sorted(os.listdir(weights_dir)):
        if fname.endswith(".json"):
            path = os.path.join(weights_dir, fname)
            weights_path = path[:-len(".json")] + ".weights.h5"
            if not os.path.isfile(weights_path):
                raise FileNotFoundError(f"record {path} has no weights file "
                                        f"{weights_path}")
            stamped.append(write_pretrained_record(_read_record(path),
                                                   weights_path))
    return stamped


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
