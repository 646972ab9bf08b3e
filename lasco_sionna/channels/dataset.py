#
# SPDX-License-Identifier: Apache-2.0
#
"""Channel datasets: HDF5 cache keyed by the full configuration, splits, loaders, and a dataset as a Sionna channel model"""

import contextlib
import fcntl
import hashlib
import json
import os
import warnings

import h5py
import numpy as np
import tensorflow as tf
from sionna.phy import Block, config
from tqdm.auto import tqdm

from lasco_sionna.channels.environment import Environment
from lasco_sionna.channels.splits import (RULES, SPLITS, check_fractions,
                                          check_location_rule, split_samples)
from lasco_sionna.utils.io import atomic_path
from lasco_sionna.utils.validation import (check_choice, check_instance,
                                           check_positive, check_seed)

#: Version of the on-disk format (part of the cache key). 2: continuous
#: ray-traced UE positions, several BS sites, splits by location or drop
FORMAT_VERSION = 2


def default_cache_dir():
    """`str` : ``$LASCO_SIONNA_CACHE`` or ``~/.cache/lasco_sionna/datasets``"""
    return os.environ.get("LASCO_SIONNA_CACHE", os.path.join(
        os.path.expanduser("~"), ".cache", "lasco_sionna", "datasets"))


class ChannelDataset:
    # pylint: disable=line-too-long
    r"""Per-UE channel realisations of one environment, in memory

    Parameters
    ----------
    h : [num_samples, 1, num_ue_ant, 1, num_bs_ant, num_time_steps, fft_size], `np.complex64`
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

    excluded : `None` | `np.ndarray`
        Sample indices in no split (duplicates, guard band); see
        :func:`~lasco_sionna.channels.splits.split_samples`

    split_rule : `None` | `dict`
        How the splits were made
    """

    def __init__(self, h, gain_db, extras, config, splits, path=None,
                 excluded=None, split_rule=None):
        self.h = h
        self.gain_db = gain_db
        self.extras = extras
        self.config = config
        self.splits = splits
        self.path = path
        self.excluded = np.zeros([0], np.int64) if excluded is None else \
            np.asarray(excluded, np.int64)
        self.split_rule = split_rule

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
    def num_ue_ant(self):
        """`int` : UE antennas"""
        return self.h.shape[2]

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
        """[num_samples, 1, num_ue_ant, 1, num_bs_ant, num_time_steps, fft_size], `np.complex64`"""
        return self.h

    def as_matrix(self, time_step=0):
        # pylint: disable=line-too-long
        """CSI images ``[num_bs_ant, fft_size]``: one per UE, or one per UE antenna

        With multi-antenna UEs (``num_ue_ant > 1``) every UE antenna's
        channel is an image of its own (the CSI paths feed each back as its
        own report), on an extra axis after the sample axis.

        Input
        -----
        time_step : `int` | `None`, (default 0)
            Snapshot, or `None` for all

        Output
        ------
        h : [num_samples, (num_ue_ant,) num_bs_ant, fft_size] | [num_samples, (num_ue_ant,) num_time_steps, num_bs_ant, fft_size], `np.complex64`
            The ``num_ue_ant`` axis only if ``num_ue_ant > 1``
        """
        # [num_samples, num_ue_ant, num_bs_ant, num_time_steps, fft_size]
        h = self.h[:, 0, :, 0]
        if self.num_ue_ant == 1:
            # [num_samples, num_bs_ant, num_time_steps, fft_size]
            h = h[:, 0]
        if time_step is None:
            # [num_samples, (num_ue_ant,) num_time_steps, num_bs_ant, fft_size]
            return np.swapaxes(h, -3, -2)
        if not -self.num_time_steps <= time_step < self.num_time_steps:
            raise ValueError(f"`time_step`={time_step} out of range for "
                             f"{self.num_time_steps} snapshots")
        # [num_samples, (num_ue_ant,) num_bs_ant, fft_size]
        return h[..., time_step, :]

    def tf_dataset(self, batch_size, shuffle=True, seed=None, time_step=0,
                   drop_remainder=False):
        """`tf.data.Dataset` of CSI images ``[batch_size, num_bs_ant, fft_size]``, `tf.complex64`"""
        check_positive("batch_size", batch_size, integer=True)
        ds = tf.data.Dataset.from_tensor_slices(self.as_matrix(time_step))
        if shuffle:
            ds = ds.shuffle(len(self), seed=seed,
                            reshuffle_each_iteration=True)
        return ds.batch(batch_size, drop_remainder=drop_remainder)

    def describe(self, max_queries=200, seed=0):
        # pylint: disable=line-too-long
        r"""How distinct the test samples are from the training ones

        Input
        -----
        max_queries : `int`, (default 200)
            Test samples (a seeded random subset) whose nearest training
            channel is searched

        seed : `int`, (default 0)
            Seed of that subset

        Output
        ------
        report : `dict`
            ``num_samples``, ``num_<split>``, ``num_excluded``,
            ``split_rule``; with positions: ``distinct_positions`` (no other
            sample within 1 mm), ``min_train_test_distance_m``,
            ``median_train_test_distance_m`` (test UE to its nearest training
            UE), the same for validation; always ``nn_test_train_nmse_db``:
            mean over test samples of
            :math:`\min_j \|h_\text{test} - h_j\|^2 / \|h_\text{test}\|^2` over
            the training channels :math:`h_j` (spatial-frequency domain,
            first snapshot; linear mean, then dB) -- a channel lookup from
            the training set; 0 dB or above means nothing close was seen
        """
        # pylint: disable=import-outside-toplevel
        from scipy.spatial import cKDTree
        if not self.splits:
            raise ValueError("this dataset has no splits (it is a subset)")
        check_positive("max_queries", max_queries, integer=True)
        rep = {"num_samples": self.num_samples,
               **{f"num_{k}": int(len(v)) for k, v in self.splits.items()},
               "num_excluded": int(len(self.excluded)),
               "split_rule": self.split_rule}
        train, test = self.splits["train"], self.splits["test"]
        pos = self.extras.get("ue_position")
        if pos is not None:
            pos = np.asarray(pos, np.float64)
            tree = cKDTree(pos)
            close = tree.query_pairs(1e-3, output_type="ndarray")
            rep["distinct_positions"] = int(self.num_samples - len(
                np.unique(close[:, 1])) if len(close) else self.num_samples)
            if len(train):
                train_tree = cKDTree(pos[train])
                for name in ("validation", "test"):
                    idx = self.splits[name]
                    if len(idx):
                        d, _ = train_tree.query(pos[idx])
                        rep[f"min_train_{name}_distance_m"] = float(d.min())
                        rep[f"median_train_{name}_distance_m"] = float(
                            np.median(d))
        if len(train) and len(test):
            rng = np.random.default_rng(seed)
            query = rng.choice(test, min(max_queries, len(test)),
                               replace=False)
            # [num, num_bs_ant * fft_size]
            hq = self.h[query, 0, 0, 0, :, 0].reshape(len(query), -1)
            best = np.full(len(query), np.inf)
            for start in range(0, len(train), 2048):
                block = train[start:start + 2048]
                # [num_block, num_bs_ant * fft_size]
                hr = self.h[block, 0, 0, 0, :, 0].reshape(len(block), -1)
                d = (np.sum(np.abs(hq) ** 2, 1)[:, None]
                     + np.sum(np.abs(hr) ** 2, 1)[None]
                     - 2 * np.real(hq @ hr.conj().T))
                best = np.minimum(best, d.min(axis=1))
            nmse = np.maximum(best, 0) / np.sum(np.abs(hq) ** 2, axis=1)
            rep["nn_test_train_nmse_db"] = float(10 * np.log10(np.mean(nmse)))
        return rep

    def __repr__(self):
        return (f"ChannelDataset({self.config.get('env', {}).get('name')!r}, "
                f"shape={self.h.shape}, path={self.path!r})")


def _checksum(f):
    """SHA-256 over every stored array (data, extras, splits) of an open file"""
    digest = hashlib.sha256()
    names = []
    f.visititems(lambda name, obj: names.append(name)
                 if isinstance(obj, h5py.Dataset) else None)
    for name in sorted(names):
        if name == "chunk_done":
            continue
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(f[name][...]).tobytes())
    return digest.hexdigest()


def _load(path, blob):
    """Load a finished cache file; raise `ValueError` if it is unusable"""
    with h5py.File(path, "r") as f:
        if not bool(f.attrs.get("complete", False)):
            raise ValueError("incomplete file")
        if f.attrs["config"] != blob:
            raise ValueError("configuration mismatch")
        if f.attrs["sha256"] != _checksum(f):
            raise ValueError("checksum mismatch")
        h = f["h"][...]
        gain_db = f["gain_db"][...]
        extras = {k: f["extras"][k][...] for k in f["extras"]}
        splits = {k: f["splits"][k][...] for k in SPLITS}
        excluded = f["splits/excluded"][...]
        rule = json.loads(f.attrs["split_rule"])
    return ChannelDataset(h, gain_db, extras, json.loads(blob), splits, path,
                          excluded=excluded, split_rule=rule)


def build_dataset(environment, num_samples, seed=None, num_time_steps=1,
                  sampling_frequency=None, cache_dir=None, chunk_size=256,
                  splits=(0.8, 0.1, 0.1), split_rule="auto", block_size=50.0,
                  guard=5.0, min_separation=0.5, executor=None,
                  progress=True, overwrite=False):
    # pylint: disable=line-too-long
    r"""Generate (or load from the cache) a dataset of an environment

    The dataset is cached as ``<cache_dir>/<env name>-<hash>.h5``, the hash
    covering the environment's full configuration and every argument that
    changes the data or its splits. A second call loads the file. A
    corrupted or mismatching file is reported with a warning and
    regenerated. Generation runs chunk by chunk into ``<file>.partial``; a
    killed build resumes with the chunks it had not finished. Chunk ``i``
    uses the seed ``(seed, i)``, so the data depend neither on
    interruptions nor on where chunks run. Concurrent builds of the same
    dataset are safe: the first holds a lock on ``<file>.lock`` and the
    others wait for it, then load its file.

    Splits (see :mod:`~lasco_sionna.channels.splits`): ray-traced datasets
    are split by *location* (blocks of ``block_size`` metres assigned by a
    hash of the scene and the block, the same for every dataset of a scene;
    validation/test UEs within ``guard`` of a training block and duplicates
    within ``min_separation`` are left out), 3GPP system-level drops by
    drop, i.i.d. draws by sample. :meth:`ChannelDataset.describe` reports
    how far test samples are from training ones.

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

    split_rule : "auto" (default) | "location" | "group" | "sample"
        "auto": "location" if the samples have positions (``ue_position``),
        "group" by drop if they have drops (``drop``), else "sample"

    block_size : `float`, (default 50.0)
        Side of a location block [m]

    guard : `float`, (default 5.0)
        Minimum distance of validation/test UEs from any training block [m]

    min_separation : `float`, (default 0.5)
        UEs closer than this to an earlier UE are duplicates [m]

    executor : `None` (default) | "local" | "ray" | executor
        Where chunks are generated: `None` in this process; otherwise an
        executor of :mod:`lasco_sionna.utils.executors` (``"ray"``: local Ray
        workers, or the cluster at ``$RAY_ADDRESS``), which gives the same
        file

    progress : `bool`, (default `True`)
        Show a progress bar while generating

    overwrite : `bool`, (default `False`)
        Regenerate even if a valid cache exists

    Output
    ------
    dataset : :class:`ChannelDataset`
    """
    check_instance("environment", environment, Environment)
    check_positive("num_samples", num_samples, integer=True)
    seed = environment.seed if seed is None else seed
    check_seed("seed", seed)
    check_positive("num_time_steps", num_time_steps, integer=True)
    if sampling_frequency is not None:
        check_positive("sampling_frequency", sampling_frequency)
    check_positive("chunk_size", chunk_size, integer=True)
    splits = check_fractions(splits)
    check_choice("split_rule", split_rule, ("auto",) + RULES)
    check_location_rule(block_size, guard, min_separation)
    raytraced = environment.kind == "raytraced"
    if (split_rule == "location" and not raytraced) or \
            (split_rule == "group" and raytraced):
        raise ValueError(f"`split_rule`={split_rule!r} does not fit the "
                         f"{environment.kind} environment {environment.name!r}"
                         "; 'location' needs UE positions (ray-traced), "
                         "'group' needs drops (UMi/UMa/RMa)")
    build = {"num_samples": int(num_samples), "seed": int(seed),
             "num_time_steps": int(num_time_steps),
             "sampling_frequency": sampling_frequency,
             "chunk_size": int(chunk_size), "splits": list(splits),
             "split_rule": split_rule, "block_size": float(block_size),
             "guard": float(guard), "min_separation": float(min_separation),
             "format": FORMAT_VERSION}
    key = environment.config_hash(**build)
    blob = json.dumps({"env": environment.config(), "build": build},
                      sort_keys=True, default=float)
    cache_dir = default_cache_dir() if cache_dir is None else cache_dir
    os.makedirs(cache_dir, exist_ok=True)
    path = os.path.join(cache_dir, f"{environment.name}-{key}.h5")

    def cached():
        if os.path.exists(path) and not overwrite:
            try:
                return _load(path, blob)
            except (OSError, ValueError, KeyError) as e:
                warnings.warn(f"dataset cache {path} is unusable ({e}); "
                              "regenerating it", stacklevel=3)
        return None

    ds = cached()
    if ds is not None:
        return ds
    with _locked(path + ".lock"):
        # Another process may have built it while this one waited
        ds = None if overwrite else cached()
        if ds is None:
            _generate(environment, path, blob, build, executor, progress)
            ds = _load(path, blob)
    return ds


@contextlib.contextmanager
def _locked(lock_path):
    """Exclusive advisory lock on ``lock_path`` (waits for other holders)"""
    with open(lock_path, "a+b") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def generate_chunk(point):
    """Executor evaluator: one chunk of a dataset (``module:function`` target)

    Input
    -----
    point : `dict`
        ``environment`` (an :class:`Environment`), ``num_samples``, ``seed``,
        ``num_time_steps``, ``sampling_frequency``, ``point_id``

    Output
    ------
    chunk : `dict`
        ``h``, ``gain_db`` and ``extras`` of the chunk
    """
    s = point["environment"].generate(
        point["num_samples"], seed=point["seed"],
        num_time_steps=point["num_time_steps"],
        sampling_frequency=point["sampling_frequency"])
    return {"h": s.h, "gain_db": s.gain_db, "extras": s.extras}


def _open_partial(partial, blob, num_chunks):
    """The partial file of an earlier build of the same configuration, or `None`"""
    if not os.path.exists(partial):
        return None
    f = None
    try:
        f = h5py.File(partial, "a")
        if f.attrs["config"] != blob or \
                f["chunk_done"].shape != (num_chunks,):
            raise ValueError("configuration mismatch")
        return f
    except (OSError, ValueError, KeyError):
        if f is not None:
            f.close()
        os.remove(partial)
        return None


def _generate(env, path, blob, build, executor, progress):
    n, chunk = build["num_samples"], build["chunk_size"]
    num_chunks = -(-n // chunk)
    partial = path + ".partial"
    f = _open_partial(partial, blob, num_chunks)
    try:
        done = np.zeros(num_chunks, bool) if f is None else \
            f["chunk_done"][...]
        todo = [{"point_id": i, "environment": env,
                 "num_samples": min((i + 1) * chunk, n) - i * chunk,
                 "seed": _chunk_seed(build["seed"], i),
                 "num_time_steps": build["num_time_steps"],
                 "sampling_frequency": build["sampling_frequency"]}
                for i in np.flatnonzero(~done)]
        bar = tqdm(total=n, initial=n - sum(p["num_samples"] for p in todo),
                   unit="UE", desc=f"{env.name}", disable=not progress)

        def write(point, s, _elapsed=None):
            nonlocal f
            i = point["point_id"]
            if f is None:
                f = h5py.File(partial, "w")
                f.attrs["config"] = blob
                f.create_dataset("chunk_done", data=np.zeros(num_chunks,
                                                             bool))
                f.create_dataset("h", (n,) + s["h"].shape[1:], np.complex64)
                f.create_dataset("gain_db", (n,), np.float32)
                g = f.create_group("extras")
                for k, v in s["extras"].items():
                    g.create_dataset(k, (n,) + v.shape[1:], v.dtype)
            start, stop = i * chunk, i * chunk + point["num_samples"]
            f["h"][start:stop] = s["h"]
            f["gain_db"][start:stop] = s["gain_db"]
            for k, v in s["extras"].items():
                f["extras"][k][start:stop] = v
            f.flush()
            f["chunk_done"][i] = True
            f.flush()
            bar.update(point["num_samples"])

        if executor is None:
            for point in todo:
                write(point, generate_chunk(point))
        else:
            if isinstance(executor, str):
                # pylint: disable=import-outside-toplevel
                from lasco_sionna.utils.executors import get_executor
                executor = get_executor(executor, progress=False)
            executor.run("lasco_sionna.channels.dataset:generate_chunk",
                         todo, write)
        bar.close()
        _finalize(f, env, build)
        f.close()
        f = None
        with atomic_path(path) as tmp:
            os.replace(partial, tmp)
    finally:
        if f is not None:
            f.close()


def _finalize(f, env, build):
    """Check a fully generated partial file, add its splits and checksum, mark it complete"""
    if not np.all(f["chunk_done"][...]):
        raise RuntimeError("dataset generation ended with missing chunks")
    h = f["h"][...]
    bad = ~np.isfinite(h)
    if bad.any():
        raise RuntimeError(f"{env.name} generated {int(bad.sum())} NaN/Inf "
                           "channel entries")
    extras = {k: f["extras"][k][...] for k in f["extras"]}
    rule = build["split_rule"]
    if rule == "auto":
        rule = "location" if "ue_position" in extras else \
            "group" if "drop" in extras else "sample"
    n = build["num_samples"]
    groups = None
    if "drop" in extras:
        # Drop numbers restart in every chunk
        chunk_index = np.arange(n) // build["chunk_size"]
        groups = chunk_index.astype(np.int64) * (n + 1) + extras["drop"]
    idx, excluded, desc = split_samples(
        n, build["splits"], rule, seed=build["seed"],
        positions=extras.get("ue_position"), groups=groups,
        key=env.split_key, block_size=build["block_size"],
        guard=build["guard"], min_separation=build["min_separation"])
    grp = f.require_group("splits")
    for k, v in {**idx, "excluded": excluded}.items():
        if k in grp:
            del grp[k]
        grp.create_dataset(k, data=v)
    f.attrs["split_rule"] = json.dumps(desc, sort_keys=True)
    f.attrs["sha256"] = _checksum(f)
    f.attrs["complete"] = True


def _chunk_seed(seed, index):
    """Seed of chunk ``index``: independent streams from ``(seed, index)``

    Not :func:`~lasco_sionna.utils.seeds.derive_seed`: these values decide
    the content of every cached dataset (and of the models and results built
    on them), which the cache key does not cover, so they stay as they were
    (``SeedSequence([seed, index])``, first word modulo ``2**31 - 1``).
    """
    return int(np.random.SeedSequence([seed, index]).generate_state(1)[0]
               % (2 ** 31 - 1))


class UserSampler:
    r"""Draws of ``num_users`` distinct UEs of a dataset per batch example, in graph

    UEs are drawn uniformly at random with Sionna's random generator (so
    draws are seeded by ``sionna.phy.config.seed`` and work in graph and XLA
    mode). If the dataset has several BS sites (extra ``site``), the users of
    one example are UEs of one site (drawn with probability proportional to
    its UEs; sites with fewer than ``num_users`` UEs are never drawn): users
    of different sites do not share a BS.

    Parameters
    ----------
    dataset : :class:`ChannelDataset`
        UE channels

    num_users : `int`
        UEs per batch example (``<= len(dataset)``)

    Input
    -----
    batch_size : `int`
        Batch size

    Output
    ------
    idx : [batch_size, num_users], `tf.int32`
        Sample indices
    """

    def __init__(self, dataset, num_users):
        check_instance("dataset", dataset, ChannelDataset)
        check_positive("num_users", num_users, integer=True)
        if num_users > len(dataset):
            raise ValueError(f"`num_users`={num_users} exceeds the "
                             f"{len(dataset)} UEs of the dataset")
        self.num_samples = len(dataset)
        self.num_users = int(num_users)
        self._members = None
        site = dataset.extras.get("site")
        if site is not None and len(np.unique(site)) > 1:
            groups = [np.flatnonzero(site == k) for k in np.unique(site)]
            groups = [g for g in groups if len(g) >= num_users]
            if not groups:
                raise ValueError(f"`num_users`={num_users} exceeds the UEs "
                                 "of every BS site of the dataset")
            width = max(len(g) for g in groups)
            # [num_sites, width]: UE indices of each site, padded
            self._members = tf.constant(np.stack(
                [np.pad(g, (0, width - len(g))) for g in groups]), tf.int32)
            counts = np.array([len(g) for g in groups])
            self._counts = tf.constant(counts, tf.int32)
            self._cum_share = tf.constant(np.cumsum(counts) / counts.sum(),
                                          tf.float32)

    def __call__(self, batch_size):
        if self._members is None:
            u = config.tf_rng.uniform([batch_size, self.num_samples],
                                      dtype=tf.float32)
            # Distinct UEs per example: [batch_size, num_users]
            return tf.math.top_k(u, k=self.num_users, sorted=False).indices
        # One site per example, by its share of the UEs: [batch_size]
        u = config.tf_rng.uniform([batch_size], dtype=tf.float32)
        site = tf.reduce_sum(tf.cast(
            u[:, None] >= self._cum_share[None, :-1], tf.int32), axis=1)
        width = tf.shape(self._members)[1]
        u = config.tf_rng.uniform([batch_size, width], dtype=tf.float32)
        valid = tf.range(width)[None] < tf.gather(self._counts, site)[:, None]
        u = tf.where(valid, u, -1.0)
        # Distinct UEs of the site: [batch_size, num_users]
        pick = tf.math.top_k(u, k=self.num_users, sorted=False).indices
        return tf.gather(tf.gather(self._members, site), pick, batch_dims=1)


class DatasetChannel(Block):
    # pylint: disable=line-too-long
    r"""A :class:`ChannelDataset` as a channel ``batch_size -> h`` of the link

    Every call draws, for every batch example, ``num_users`` *distinct* UEs
    of the dataset (:class:`UserSampler`: seeded by
    ``sionna.phy.config.seed``, one BS site per example) and returns their
    frequency responses stacked as the receivers of one BS. For Sionna's
    own channel blocks (``OFDMChannel``, ``TimeChannel``,
    ``GenerateOFDMChannel``), use
    :func:`~lasco_sionna.channels.as_channel_model`.

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
    h : [batch_size, num_users, num_ue_ant, 1, num_bs_ant, num_time_steps, fft_size], `tf.complex`
        Channels in Sionna's OFDM layout
    """

    def __init__(self, dataset, num_users, num_time_steps=None,
                 precision=None):
        super().__init__(precision=precision)
        self._sampler = UserSampler(dataset, num_users)
        t = dataset.num_time_steps if num_time_steps is None else \
            num_time_steps
        check_positive("num_time_steps", t, integer=True)
        if t > dataset.num_time_steps:
            raise ValueError(f"`num_time_steps`={t} exceeds the "
                             f"{dataset.num_time_steps} snapshots of the "
                             "dataset")
        self.dataset = dataset
        self.num_users = int(num_users)
        # [num_samples, num_ue_ant, num_bs_ant, num_time_steps, fft_size]
        self._h = tf.constant(dataset.h[:, 0, :, 0, :, :t], self.cdtype)

    @property
    def num_bs_ant(self):
        """`int` : BS antennas"""
        return self.dataset.num_bs_ant

    def call(self, batch_size):
        # [batch_size, num_users]
        idx = self._sampler(batch_size)
        # [batch_size, num_users, num_ue_ant, num_bs_ant, num_time_steps,
        #  fft_size]
        h = tf.gather(self._h, idx)
        # [batch_size, num_users, num_ue_ant, 1, num_bs_ant, num_time_steps,
        #  fft_size]
        return h[:, :, :, tf.newaxis]
