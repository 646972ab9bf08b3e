#
# SPDX-License-Identifier: Apache-2.0
#
"""Channel datasets: HDF5 cache keyed by the full configuration, splits, loaders, and a dataset as a Sionna channel model"""

import json
import os
import warnings

import h5py
import numpy as np
import tensorflow as tf
from sionna.phy import Block, config
from tqdm.auto import tqdm

from lasco_sionna.channels.environment import Environment
from lasco_sionna.utils.io import atomic_path
from lasco_sionna.utils.validation import check_choice, check_positive

#: Version of the on-disk format (part of the cache key)
FORMAT_VERSION = 1
SPLITS = ("train", "validation", "test")


def default_cache_dir():
    """`str` : ``$LASCO_SIONNA_CACHE`` or ``~/.cache/lasco_sionna/datasets``"""
    return os.environ.get("LASCO_SIONNA_CACHE", os.path.join(
        os.path.expanduser("~"), ".cache", "lasco_sionna", "datasets"))


class ChannelDataset:
    # pylint: disable=line-too-long
    r"""Per-UE channel realisations of one environment, in memory

    Parameters
    ----------
    h : [num_samples, 1, 1, 1, num_bs_ant, num_time_steps, fft_size], `np.complex64`
        Channels in Sionna's OFDM layout

    gain_db : [num_samples], `np.float32`
        Channel gain before normalisation [dB]

    extras : `dict` of [num_samples, ...] `np.ndarray`
        Per-sample metadata (e.g. ``ue_position``)

    config : `dict`
        Environment configuration and build arguments

    splits : `dict` of `np.ndarray`
        Sample indices of ``"train"``, ``"validation"`` and ``"test"``

    path : `None` | `str`
        HDF5 file the dataset was loaded from
    """

    def __init__(self, h, gain_db, extras, config, splits, path=None):
        self.h = h
        self.gain_db = gain_db
        self.extras = extras
        self.config = config
        self.splits = splits
        self.path = path

    def __len__(self):
        return self.h.shape[0]

    @property
    def num_samples(self):
        """`int` : Number of UE channels"""
        return self.h.shape[0]

    @property
    def num_bs_ant(self):
        """`int` : BS antennas"""
        return self.h.shape[4]

    @property
    def num_time_steps(self):
        """`int` : Snapshots per UE"""
        return self.h.shape[5]

    @property
    def fft_size(self):
        """`int` : Subcarriers"""
        return self.h.shape[6]

    def subset(self, indices):
        """:class:`ChannelDataset` with the samples ``indices`` (no splits)"""
        indices = np.asarray(indices, dtype=np.int64)
        return ChannelDataset(self.h[indices], self.gain_db[indices],
                              {k: v[indices] for k, v in self.extras.items()},
                              self.config, {}, self.path)

    def split(self, name):
        """The ``"train"``, ``"validation"`` or ``"test"`` subset (``"all"``: self)"""
        check_choice("split", name, ("all",) + SPLITS)
        if name == "all":
            return self
        if not self.splits:
            raise ValueError("this dataset has no splits (it is a subset)")
        return self.subset(self.splits[name])

    def to_sionna(self):
        """[num_samples, 1, 1, 1, num_bs_ant, num_time_steps, fft_size], `np.complex64`"""
        return self.h

    def as_matrix(self, time_step=0):
        """CSI images of one UE each

        Input
        -----
        time_step : `int` | `None`, (default 0)
            Snapshot, or `None` for all

        Output
        ------
        h : [num_samples, num_bs_ant, fft_size] | [num_samples, num_time_steps, num_bs_ant, fft_size], `np.complex64`
        """
        # [num_samples, num_bs_ant, num_time_steps, fft_size]
        h = self.h[:, 0, 0, 0]
        if time_step is None:
            # [num_samples, num_time_steps, num_bs_ant, fft_size]
            return np.transpose(h, (0, 2, 1, 3))
        if not -self.num_time_steps <= time_step < self.num_time_steps:
            raise ValueError(f"`time_step`={time_step} out of range for "
                             f"{self.num_time_steps} snapshots")
        # [num_samples, num_bs_ant, fft_size]
        return h[:, :, time_step]

    def tf_dataset(self, batch_size, shuffle=True, seed=None, time_step=0,
                   drop_remainder=False):
        """`tf.data.Dataset` of CSI images ``[batch_size, num_bs_ant, fft_size]``, `tf.complex64`"""
        check_positive("batch_size", batch_size, integer=True)
        ds = tf.data.Dataset.from_tensor_slices(self.as_matrix(time_step))
        if shuffle:
            ds = ds.shuffle(len(self), seed=seed,
                            reshuffle_each_iteration=True)
        return ds.batch(batch_size, drop_remainder=drop_remainder)

    def __repr__(self):
        return (f"ChannelDataset({self.config.get('env', {}).get('name')!r}, "
                f"shape={self.h.shape}, path={self.path!r})")


def _split_indices(num_samples, splits, seed):
    perm = np.random.default_rng([int(seed), 0x5EED]).permutation(num_samples)
    bounds = np.round(np.cumsum(splits) * num_samples).astype(int)
    bounds[-1] = num_samples
    return dict(zip(SPLITS, np.split(perm, bounds[:-1])))


def _checksum(h):
    import hashlib  # pylint: disable=import-outside-toplevel
    return hashlib.sha256(np.ascontiguousarray(h).tobytes()).hexdigest()


def _load(path, blob):
    """Load a finished cache file; raise `ValueError` if it is unusable"""
    with h5py.File(path, "r") as f:
        if not bool(f.attrs.get("complete", False)):
            raise ValueError("incomplete file")
        if f.attrs["config"] != blob:
            raise ValueError("configuration mismatch")
        h = f["h"][...]
        if f.attrs["sha256"] != _checksum(h):
            raise ValueError("checksum mismatch")
        gain_db = f["gain_db"][...]
        extras = {k: f["extras"][k][...] for k in f["extras"]}
        splits = {k: f["splits"][k][...] for k in SPLITS}
    return ChannelDataset(h, gain_db, extras, json.loads(blob), splits, path)


def build_dataset(environment, num_samples, seed=None, num_time_steps=1,
                  sampling_frequency=None, cache_dir=None, chunk_size=256,
                  splits=(0.8, 0.1, 0.1), progress=True, overwrite=False):
    # pylint: disable=line-too-long
    r"""Generate (or load from the cache) a dataset of an environment

    The dataset is cached as ``<cache_dir>/<env name>-<hash>.h5``, the hash
    covering the environment's full configuration and every argument that
    changes the data. A second call loads the file. A corrupted or
    mismatching file is reported with a warning and regenerated. Generation
    runs chunk by chunk into ``<file>.partial``; a killed build resumes from
    the last finished chunk. Chunk ``i`` uses the seed ``(seed, i)``, so the
    data do not depend on interruptions.

    Input
    -----
    environment : :class:`~lasco_sionna.channels.Environment`
        Channel generator

    num_samples : `int`
        Number of UE channels

    seed : `None` (default) | `int`
        Seed of the draws and of the split; the environment's seed if `None`

    num_time_steps : `int`, (default 1)
        Snapshots per UE

    sampling_frequency : `None` (default) | `float`
        Snapshot rate [Hz]; one per slot if `None`

    cache_dir : `None` (default) | `str`
        Cache directory (see :func:`default_cache_dir`)

    chunk_size : `int`, (default 256)
        Samples generated per chunk (part of the cache key)

    splits : `tuple` of 3 `float`, (default (0.8, 0.1, 0.1))
        Train/validation/test fractions, summing to 1

    progress : `bool`, (default `True`)
        Show a progress bar while generating

    overwrite : `bool`, (default `False`)
        Regenerate even if a valid cache exists

    Output
    ------
    dataset : :class:`ChannelDataset`
    """
    if not isinstance(environment, Environment):
        raise TypeError("`environment` must be an Environment, got "
                        f"{type(environment).__name__}")
    check_positive("num_samples", num_samples, integer=True)
    seed = environment.seed if seed is None else seed
    check_positive("seed", seed, integer=True, allow_zero=True)
    check_positive("num_time_steps", num_time_steps, integer=True)
    if sampling_frequency is not None:
        check_positive("sampling_frequency", sampling_frequency)
    check_positive("chunk_size", chunk_size, integer=True)
    splits = tuple(float(s) for s in splits)
    if len(splits) != 3 or min(splits) < 0 or abs(sum(splits) - 1) > 1e-9:
        raise ValueError("`splits` must be 3 non-negative fractions "
                         f"(train, validation, test) summing to 1, got {splits}")
    build = {"num_samples": int(num_samples), "seed": int(seed),
             "num_time_steps": int(num_time_steps),
             "sampling_frequency": sampling_frequency,
             "chunk_size": int(chunk_size), "splits": list(splits),
             "format": FORMAT_VERSION}
    key = environment.config_hash(**build)
    blob = json.dumps({"env": environment.config(), "build": build},
                      sort_keys=True, default=float)
    cache_dir = default_cache_dir() if cache_dir is None else cache_dir
    os.makedirs(cache_dir, exist_ok=True)
    path = os.path.join(cache_dir, f"{environment.name}-{key}.h5")

    if os.path.exists(path) and not overwrite:
        try:
            return _load(path, blob)
        except (OSError, ValueError, KeyError) as e:
            warnings.warn(f"dataset cache {path} is unusable ({e}); "
                          "regenerating it", stacklevel=2)
    _generate(environment, path, blob, build, progress)
    return _load(path, blob)


def _generate(env, path, blob, build, progress):
    n, chunk = build["num_samples"], build["chunk_size"]
    num_chunks = -(-n // chunk)
    partial = path + ".partial"
    f = None
    if os.path.exists(partial):
        try:
            f = h5py.File(partial, "a")
            if f.attrs["config"] != blob:
                raise ValueError("configuration mismatch")
        except (OSError, ValueError, KeyError):
            if f is not None:
                f.close()
            f = None
            os.remove(partial)
    try:
        done = 0 if f is None else int(f.attrs["chunks_done"])
        bar = tqdm(total=n, initial=min(done * chunk, n), unit="UE",
                   desc=f"{env.name}", disable=not progress)
        for i in range(done, num_chunks):
            start, stop = i * chunk, min((i + 1) * chunk, n)
            s = env.generate(stop - start, seed=_chunk_seed(build["seed"], i),
                             num_time_steps=build["num_time_steps"],
                             sampling_frequency=build["sampling_frequency"])
            if f is None:
                f = h5py.File(partial, "w")
                f.attrs["config"] = blob
                f.attrs["chunks_done"] = 0
                f.create_dataset("h", (n,) + s.h.shape[1:], np.complex64)
                f.create_dataset("gain_db", (n,), np.float32)
                g = f.create_group("extras")
                for k, v in s.extras.items():
                    g.create_dataset(k, (n,) + v.shape[1:], v.dtype)
            f["h"][start:stop] = s.h
            f["gain_db"][start:stop] = s.gain_db
            for k, v in s.extras.items():
                f["extras"][k][start:stop] = v
            f.attrs["chunks_done"] = i + 1
            f.flush()
            bar.update(stop - start)
        bar.close()
        h = f["h"][...]
        f.attrs["sha256"] = _checksum(h)
        grp = f.require_group("splits")
        for k, v in _split_indices(n, build["splits"], build["seed"]).items():
            if k in grp:
                del grp[k]
            grp.create_dataset(k, data=v)
        f.attrs["complete"] = True
        f.close()
        f = None
        with atomic_path(path) as tmp:
            os.replace(partial, tmp)
    finally:
        if f is not None:
            f.close()


def _chunk_seed(seed, index):
    """Seed of chunk ``index``: independent streams from ``(seed, index)``"""
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0]
               % (2 ** 31 - 1))


class DatasetChannel(Block):
    # pylint: disable=line-too-long
    r"""A :class:`ChannelDataset` as a Sionna channel model

    Every call draws, for every batch example, ``num_users`` *distinct* UEs
    of the dataset uniformly at random (Sionna's random generator, so it is
    seeded by ``sionna.phy.config.seed`` and works in graph and XLA mode)
    and returns their channels stacked as the receivers of one BS.

    Parameters
    ----------
    dataset : :class:`ChannelDataset`
        UE channels

    num_users : `int`
        UEs per batch example (``<= len(dataset)``)

    num_time_steps : `None` (default) | `int`
        Keep the first ``num_time_steps`` snapshots (all if `None`)

    precision : `None` (default) | "single" | "double"
        Precision of the output

    Input
    -----
    batch_size : `int`
        Batch size

    Output
    ------
    h : [batch_size, num_users, 1, 1, num_bs_ant, num_time_steps, fft_size], `tf.complex`
        Channels in Sionna's OFDM layout
    """

    def __init__(self, dataset, num_users, num_time_steps=None,
                 precision=None):
        super().__init__(precision=precision)
        if not isinstance(dataset, ChannelDataset):
            raise TypeError("`dataset` must be a ChannelDataset, got "
                            f"{type(dataset).__name__}")
        check_positive("num_users", num_users, integer=True)
        if num_users > len(dataset):
            raise ValueError(f"`num_users`={num_users} exceeds the "
                             f"{len(dataset)} UEs of the dataset")
        t = dataset.num_time_steps if num_time_steps is None else \
            num_time_steps
        check_positive("num_time_steps", t, integer=True)
        if t > dataset.num_time_steps:
            raise ValueError(f"`num_time_steps`={t} exceeds the "
                             f"{dataset.num_time_steps} snapshots of the "
                             "dataset")
        self.dataset = dataset
        self.num_users = int(num_users)
        # [num_samples, num_bs_ant, num_time_steps, fft_size]
        self._h = tf.constant(dataset.h[:, 0, 0, 0, :, :t], self.cdtype)

    @property
    def num_bs_ant(self):
        """`int` : BS antennas"""
        return self.dataset.num_bs_ant

    def call(self, batch_size):
        n = self.dataset.num_samples
        u = config.tf_rng.uniform([batch_size, n], dtype=tf.float32)
        # Distinct UEs per example: [batch_size, num_users]
        idx = tf.math.top_k(u, k=self.num_users, sorted=False).indices
        # [batch_size, num_users, num_bs_ant, num_time_steps, fft_size]
        h = tf.gather(self._h, idx)
        # [batch_size, num_users, 1, 1, num_bs_ant, num_time_steps, fft_size]
        return h[:, :, tf.newaxis, tf.newaxis]
