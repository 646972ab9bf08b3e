#
# SPDX-License-Identifier: Apache-2.0
#
"""Environments: named, seeded channel generators with one interface, and their registry"""

import hashlib
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field

import numpy as np

from lasco_sionna.channels.config import BSArray, Numerology
from lasco_sionna.utils.validation import (check_choice, check_instance,
                                           check_positive, check_seed)


@dataclass
class ChannelSamples:
    r"""Per-UE channel realisations produced by an :class:`Environment`

    Parameters
    ----------
    h : [num_samples, 1, num_ue_ant, 1, num_bs_ant, num_time_steps, fft_size], `np.complex64`
        Downlink frequency responses in Sionna's OFDM layout
        ``[batch, num_rx, num_rx_ant, num_tx, num_tx_ant, num_time_steps,
        fft_size]``, one UE per sample (``num_ue_ant = 1`` unless the
        environment has multi-antenna UEs). If the environment normalises
        (the default), each sample has unit mean energy per element:
        ``mean(|h|^2) = 1`` over all its antennas.

    gain_db : [num_samples], `np.float32`
        Average channel power gain of each sample before normalisation [dB]

    extras : `dict` of [num_samples, ...] `np.ndarray`
        Environment-specific per-sample metadata (e.g. ``ue_position``);
        a channel impulse response stored as ``cir_a`` (path coefficients,
        first axis the sample) is scaled like ``h``
    """

    h: np.ndarray
    gain_db: np.ndarray
    extras: dict = field(default_factory=dict)

    def __len__(self):
        return self.h.shape[0]


def normalize_per_sample(h):
    r"""Normalise each sample to unit mean energy per element

    Input
    -----
    h : [num_samples, ...], `np.complex`
        Channel samples

    Output
    ------
    h : [num_samples, ...], `np.complex64`
        Normalised samples

    gain_db : [num_samples], `np.float32`
        Mean energy per element of each input sample [dB]
    """
    axes = tuple(range(1, h.ndim))
    energy = np.mean(np.abs(h) ** 2, axis=axes)
    if np.any(energy <= 0):
        raise ValueError(f"{int(np.sum(energy <= 0))} channel sample(s) have "
                         "zero energy and cannot be normalised")
    scale = 1.0 / np.sqrt(energy)
    h = h * scale.reshape((-1,) + (1,) * (h.ndim - 1))
    return h.astype(np.complex64), (10 * np.log10(energy)).astype(np.float32)


class Environment(ABC):
    r"""A named, seeded generator of downlink channels

    Every environment produces per-UE frequency responses for one BS
    (``num_tx = 1``) with ``bs_array.num_ant`` antennas and UEs with
    ``num_ue_ant`` antennas (1 by default), at the subcarriers of
    ``numerology``. Draws are deterministic for a given ``(config, seed)``.

    Parameters
    ----------
    name : `str`
        Registry name

    numerology : :class:`~lasco_sionna.channels.Numerology`
        OFDM numerology

    bs_array : :class:`~lasco_sionna.channels.BSArray`
        BS antenna array

    seed : `int`
        Default seed of :meth:`generate`

    normalize : `bool`
        Normalise every sample to unit mean energy per element

    num_ue_ant : `int`, (default 1)
        UE antennas (a single-polarised uniform linear array, half-wavelength
        spacing). Part of the configuration only if not 1, so single-antenna
        datasets keep their cache keys
    """

    #: "stochastic" or "raytraced"
    kind = None

    def __init__(self, name, numerology, bs_array, seed, normalize,
                 num_ue_ant=1):
        check_instance("numerology", numerology, Numerology)
        check_instance("bs_array", bs_array, BSArray)
        check_seed("seed", seed)
        self.num_ue_ant = int(check_positive("num_ue_ant", num_ue_ant,
                                             integer=True))
        self.name = name
        self.numerology = numerology
        self.bs_array = bs_array
        self.seed = int(seed)
        self.normalize = bool(normalize)

    @property
    def num_bs_ant(self):
        """`int` : Number of BS antenna ports"""
        return self.bs_array.num_ant

    @property
    def split_key(self):
        """`str` : Key of location-based splits: datasets with the same key agree on which places are training, validation and test places"""
        return self.name

    def config(self):
        """`dict` : Full JSON-serialisable configuration (hashed for caching)"""
        params = self._params()
        if self.num_ue_ant != 1:
            params["num_ue_ant"] = self.num_ue_ant
        return {"name": self.name,
                "kind": self.kind,
                "class": type(self).__name__,
                "numerology": self.numerology.to_dict(),
                "bs_array": self.bs_array.to_dict(),
                "seed": self.seed,
                "normalize": self.normalize,
                "params": params}

    def config_hash(self, **extra):
        """`str` : SHA-256 (16 hex digits) of :meth:`config` and ``extra``"""
        blob = json.dumps({"env": self.config(), **extra}, sort_keys=True,
                          default=float)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    @abstractmethod
    def _params(self):
        """`dict` : Environment-specific parameters (JSON-serialisable)"""

    @abstractmethod
    def _generate(self, num_samples, seed, num_time_steps, sampling_frequency):
        """Draw raw (unnormalised) channels; returns (h, extras)"""

    def generate(self, num_samples, seed=None, num_time_steps=1,
                 sampling_frequency=None):
        r"""Draw per-UE channel realisations

        Input
        -----
        num_samples : `int`
            Number of UE channels

        seed : `None` (default) | `int`
            Seed; defaults to the environment's seed

        num_time_steps : `int`, (default 1)
            Number of channel snapshots per UE (time-varying channels)

        sampling_frequency : `None` (default) | `float`
            Snapshot rate [Hz]; defaults to one snapshot per slot

        Output
        ------
        samples : :class:`ChannelSamples`
            ``h`` has shape ``[num_samples, 1, num_ue_ant, 1, num_bs_ant,
            num_time_steps, fft_size]``
        """
        check_positive("num_samples", num_samples, integer=True)
        check_positive("num_time_steps", num_time_steps, integer=True)
        seed = self.seed if seed is None else seed
        check_seed("seed", seed)
        if sampling_frequency is None:
            sampling_frequency = 1.0 / self.numerology.slot_duration
        check_positive("sampling_frequency", sampling_frequency)
        h, extras = self._generate(int(num_samples), int(seed),
                                   int(num_time_steps),
                                   float(sampling_frequency))
        expected = (num_samples, 1, self.num_ue_ant, 1, self.num_bs_ant,
                    num_time_steps,
                    self.numerology.fft_size)
        if h.shape != expected:
            raise RuntimeError(f"{type(self).__name__} produced shape "
                               f"{h.shape}, expected {expected}")
        if self.normalize:
            h, gain_db = normalize_per_sample(h)
            if "cir_a" in extras:
                # The impulse response gets the same per-sample scale as h
                scale = 10.0 ** (-gain_db.astype(np.float64) / 20.0)
                cir_a = extras["cir_a"]
                extras["cir_a"] = (cir_a * scale.reshape(
                    (-1,) + (1,) * (cir_a.ndim - 1))).astype(np.complex64)
        else:
            h = h.astype(np.complex64)
            gain_db = np.zeros([num_samples], np.float32)
        return ChannelSamples(h=h, gain_db=gain_db, extras=extras)

    def __repr__(self):
        return (f"{type(self).__name__}(name={self.name!r}, "
                f"params={self._params()}, seed={self.seed})")


_REGISTRY = {}


def register_environment(name, factory, kind, description="", fixed=None):
    """Register an environment factory under ``name``

    Input
    -----
    name : `str`
        Registry name, e.g. ``"cdl-e"`` or ``"rt-munich"``

    factory : `callable`
        ``factory(name=name, **kwargs) -> Environment``

    kind : "stochastic" | "raytraced"
        Kind of environment

    description : `str`
        One line shown by :func:`list_environments`

    fixed : `None` (default) | `dict`
        Parameters the name stands for (e.g. ``{"model": "C"}`` for
        ``"cdl-c"``): :func:`get_environment` refuses other values
    """
    if name in _REGISTRY:
        raise ValueError(f"environment {name!r} is already registered")
    check_choice("kind", kind, ("stochastic", "raytraced"))
    _REGISTRY[name] = (factory, kind, description, dict(fixed or {}))


def list_environments(kind=None):
    """Registered environments

    Input
    -----
    kind : `None` (default) | "stochastic" | "raytraced"
        Filter by kind

    Output
    ------
    envs : `dict`
        ``{name: description}``, sorted by name
    """
    _ensure_builtin()
    out = {}
    for name in sorted(_REGISTRY):
        _, env_kind, desc, _ = _REGISTRY[name]
        if kind is None or env_kind == kind:
            out[name] = desc
    return out


def get_environment(name, **kwargs):
    """Instantiate a registered environment

    Input
    -----
    name : `str`
        Registry name (see :func:`list_environments`)

    kwargs :
        Passed to the factory (e.g. ``numerology``, ``bs_array``, ``seed``).
        Unknown keyword arguments raise `TypeError`; a parameter the name
        fixes (``model`` of ``"cdl-c"``) may only be repeated, not changed
        (`ValueError`).

    Output
    ------
    env : :class:`Environment`
    """
    _ensure_builtin()
    if name not in _REGISTRY:
        raise ValueError(f"unknown environment {name!r}; valid names: "
                         + ", ".join(sorted(_REGISTRY)))
    factory, _, _, fixed = _REGISTRY[name]
    for key, value in fixed.items():
        if key in kwargs and kwargs[key] != value:
            raise ValueError(f"environment {name!r} has {key}={value!r}, "
                             f"got {key}={kwargs[key]!r}; choose the "
                             "environment by its name (see "
                             "list_environments())")
    return factory(name=name, **kwargs)


def _ensure_builtin():
    # Importing the modules registers the built-in environments
    # pylint: disable=import-outside-toplevel,unused-import
    from lasco_sionna.channels import stochastic, raytraced  # noqa: F401
