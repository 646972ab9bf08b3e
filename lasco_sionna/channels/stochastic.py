#
# SPDX-License-Identifier: Apache-2.0
#
"""3GPP TR 38.901 stochastic environments: CDL-A..E, TDL-A..E, UMi, UMa and RMa"""

import functools

import numpy as np
import tensorflow as tf
from sionna.phy import Block
from sionna.phy.channel import (cir_to_ofdm_channel, exp_corr_mat,
                                gen_single_sector_topology)
from sionna.phy.channel.tr38901 import CDL, TDL, RMa, UMa, UMi, PanelArray
from sionna.phy.constants import SPEED_OF_LIGHT

from lasco_sionna.channels.config import BSArray, Numerology
from lasco_sionna.channels.environment import Environment, register_environment
from lasco_sionna.utils.rng import sionna_seed
from lasco_sionna.utils.validation import (check_choice, check_number,
                                           check_positive)

CDL_MODELS = ("A", "B", "C", "D", "E")
TDL_MODELS = ("A", "B", "C", "D", "E")
SYSTEM_LEVEL_SCENARIOS = {"umi": UMi, "uma": UMa, "rma": RMa}


def _panel_arrays(bs_array, carrier_frequency, precision=None, num_ue_ant=1):
    """BS and UT arrays of TR 38.901 for a :class:`BSArray` and ``num_ue_ant`` UE antennas (a single-polarised ULA)"""
    bs = PanelArray(num_rows_per_panel=bs_array.num_rows,
                    num_cols_per_panel=bs_array.num_cols,
                    polarization=bs_array.polarization,
                    polarization_type="V" if bs_array.polarization == "single"
                    else "cross",
                    antenna_pattern="38.901" if bs_array.pattern == "38.901"
                    else "omni",
                    carrier_frequency=carrier_frequency,
                    precision=precision)
    ut = PanelArray(num_rows_per_panel=1, num_cols_per_panel=num_ue_ant,
                    polarization="single", polarization_type="V",
                    antenna_pattern="omni",
                    carrier_frequency=carrier_frequency,
                    precision=precision)
    return bs, ut


def _check_speeds(min_speed, max_speed):
    """Raise `ValueError` unless ``0 <= min_speed <= max_speed`` (finite)"""
    check_positive("min_speed", min_speed, allow_zero=True)
    check_positive("max_speed", max_speed, allow_zero=True)
    if max_speed < min_speed:
        raise ValueError(f"`max_speed`={max_speed} must be >= "
                         f"`min_speed`={min_speed}")


def max_doppler(speed, carrier_frequency):
    r"""Maximum Doppler frequency :math:`f_D = v f_c / c` [Hz]

    Input
    -----
    speed : `float` | `np.ndarray`
        UE speed [m/s]

    carrier_frequency : `float`
        Carrier frequency [Hz]

    Output
    ------
    f_d : `float` | `np.ndarray`
        Maximum Doppler frequency [Hz]
    """
    return np.asarray(speed) * carrier_frequency / SPEED_OF_LIGHT


class StochasticEnvironment(Environment):
    """Base class of TR 38.901 environments, generated with Sionna's models

    Subclasses implement :meth:`_channel_model`; :meth:`channel_model` is
    an in-graph generator of multi-user channels usable directly in a link,
    and :func:`~lasco_sionna.channels.as_channel_model` makes the
    environment a Sionna :class:`~sionna.phy.channel.ChannelModel`.
    """

    kind = "stochastic"

    def channel_model(self, num_users, num_time_steps=1,
                      sampling_frequency=None, precision=None,
                      normalize=None):
        # pylint: disable=line-too-long
        """In-graph multi-user channel generator (fresh draws at every call)

        Input
        -----
        num_users : `int`
            Number of UEs per batch example

        num_time_steps : `int`, (default 1)
            Snapshots per example

        sampling_frequency : `None` (default) | `float`
            Snapshot rate [Hz]; one per slot if `None`

        precision : `None` (default) | "single" | "double"
            Precision of the generated channels

        normalize : `None` (default) | `bool`
            Normalise every UE channel to unit mean energy per element (over
            its antennas, snapshots and subcarriers), as
            :meth:`~lasco_sionna.channels.Environment.generate` does;
            `None`: the environment's ``normalize``

        Output
        ------
        channel : :class:`sionna.phy.Block`
            ``channel(batch_size)`` returns
            ``[batch_size, num_users, num_ue_ant, 1, num_bs_ant,
            num_time_steps, fft_size]``, `tf.complex`; its method
            ``cir(batch_size, num_time_steps, sampling_frequency)`` returns
            the impulse responses ``(a, tau)`` (same normalisation)
        """
        check_positive("num_users", num_users, integer=True)
        check_positive("num_time_steps", num_time_steps, integer=True)
        if sampling_frequency is None:
            sampling_frequency = 1.0 / self.numerology.slot_duration
        check_positive("sampling_frequency", sampling_frequency)
        normalize = self.normalize if normalize is None else normalize
        check_choice("normalize", normalize, (True, False))
        return self._channel_model(int(num_users), int(num_time_steps),
                                   float(sampling_frequency), precision,
                                   bool(normalize))

    def _channel_model(self, num_users, num_time_steps, sampling_frequency,
                       precision, normalize):
        """:meth:`channel_model` with checked arguments"""
        raise NotImplementedError

    def _generate(self, num_samples, seed, num_time_steps, sampling_frequency):
        # Raw channels: Environment.generate normalises and keeps gain_db
        gen = self.channel_model(1, num_time_steps, sampling_frequency,
                                 precision="single", normalize=False)
        chunks = []
        rng = np.random.default_rng(seed)
        done = 0
        while done < num_samples:
            n = min(self._chunk, num_samples - done)
            with sionna_seed(int(rng.integers(2**31))):
                self._before_chunk(gen, rng)
                h = gen(n)
            # [n, 1, 1, 1, num_bs_ant, num_time_steps, fft_size]
            chunks.append(h.numpy())
            done += n
        return np.concatenate(chunks, axis=0), {}

    # Samples per draw of :meth:`_generate`; subclasses may redraw per chunk
    _chunk = 256

    def _before_chunk(self, gen, rng):
        """Hook called before each chunk (e.g. to redraw a BS orientation)"""


class _MultiUserChannel(Block):
    """In-graph multi-user channel of a stochastic environment: ``call(batch_size) -> h``, ``cir(...) -> (a, tau)``, optionally normalised per UE"""

    def __init__(self, num_users, frequencies, num_time_steps,
                 sampling_frequency, normalize, precision=None):
        super().__init__(precision=precision)
        self._num_users = num_users
        self._frequencies = tf.constant(frequencies, self.rdtype)
        self._num_time_steps = num_time_steps
        self._sampling_frequency = sampling_frequency
        self._normalize = normalize

    def raw_cir(self, batch_size, num_time_steps, sampling_frequency):
        """Unnormalised ``a`` [batch_size, num_users, num_ue_ant, 1, num_bs_ant, num_paths, num_time_steps], ``tau`` [batch_size, num_users, 1, num_paths]"""
        raise NotImplementedError

    def _inverse_rms(self, h):
        """[batch_size, num_users, 1, 1, 1, 1, 1]: 1/sqrt of each UE's mean energy per element of ``h``"""
        energy = tf.reduce_mean(tf.abs(h) ** 2, axis=[2, 3, 4, 5, 6],
                                keepdims=True)
        return tf.math.divide_no_nan(tf.ones_like(energy), tf.sqrt(energy))

    def cir(self, batch_size, num_time_steps, sampling_frequency):
        """Channel impulse responses, normalised so that each UE's frequency response at the environment's subcarriers has unit mean energy per element (if ``normalize``)"""
        a, tau = self.raw_cir(batch_size, num_time_steps, sampling_frequency)
        if self._normalize:
            # [batch_size, num_users, num_ue_ant, 1, num_bs_ant,
            #  num_time_steps, fft_size]
            h = cir_to_ofdm_channel(self._frequencies, a, tau, normalize=False)
            a = a * tf.cast(self._inverse_rms(h), a.dtype)
        return a, tau

    def call(self, batch_size):
        a, tau = self.raw_cir(batch_size, self._num_time_steps,
                              self._sampling_frequency)
        # [batch_size, num_users, num_ue_ant, 1, num_bs_ant, num_time_steps,
        #  fft_size]
        h = cir_to_ofdm_channel(self._frequencies, a, tau, normalize=False)
        if self._normalize:
            h = h * tf.cast(self._inverse_rms(h), h.dtype)
        return h


class _LinkLevelChannel(_MultiUserChannel):
    """In-graph multi-user CDL/TDL channel: ``num_users`` independent draws"""

    def __init__(self, model, num_users, frequencies, num_time_steps,
                 sampling_frequency, normalize, precision=None):
        super().__init__(num_users, frequencies, num_time_steps,
                         sampling_frequency, normalize, precision=precision)
        self.model = model

    def set_bs_yaw(self, yaw):
        """Set the BS azimuth orientation [rad] used by the next draws"""
        # pylint: disable=protected-access
        self.model._tx_orientation = tf.constant([yaw, 0.0, 0.0], self.rdtype)

    def raw_cir(self, batch_size, num_time_steps, sampling_frequency):
        k = self._num_users
        a, tau = self.model(batch_size * k, num_time_steps,
                            sampling_frequency)
        # a: [batch_size*k, 1, num_ue_ant, 1, num_bs_ant, num_paths, T]
        a = tf.reshape(a, tf.concat([[batch_size, k], tf.shape(a)[2:]], 0))
        # a: [batch_size, k, num_ue_ant, 1, num_bs_ant, num_paths, T]
        # tau: [batch_size*k, 1, 1, num_paths]
        tau = tf.reshape(tau, tf.concat([[batch_size, k],
                                         tf.shape(tau)[2:]], 0))
        # tau: [batch_size, k, 1, num_paths]
        return a, tau


class _DelayLineEnvironment(StochasticEnvironment):
    """Base class of the CDL and TDL environments: model, delay spread, UE speeds

    Parameters
    ----------
    name : `str`
        Registry name

    model : `str`
        Model, one of ``models``

    models : `tuple` of `str`
        Valid models

    delay_spread : `float`
        RMS delay spread [s]

    min_speed, max_speed : `float`
        UE speed range [m/s]

    numerology, bs_array, seed, normalize, num_ue_ant :
        See :class:`~lasco_sionna.channels.Environment`
    """

    def __init__(self, name, model, models, delay_spread, min_speed,
                 max_speed, numerology, bs_array, seed, normalize,
                 num_ue_ant):
        super().__init__(name, numerology, bs_array, seed, normalize,
                         num_ue_ant)
        check_choice("model", model, models)
        check_positive("delay_spread", delay_spread)
        _check_speeds(min_speed, max_speed)
        self.model = model
        self.delay_spread = float(delay_spread)
        self.min_speed = float(min_speed)
        self.max_speed = float(max_speed)

    def _params(self):
        return {"model": self.model, "delay_spread": self.delay_spread,
                "min_speed": self.min_speed, "max_speed": self.max_speed}


class CDLEnvironment(_DelayLineEnvironment):
    r"""TR 38.901 clustered delay line (CDL) environment

    A multi-user draw stacks independent CDL realisations (they share the
    model's cluster angles, so users are more correlated than real ones).
    Geometric diversity: with ``bs_yaw_jitter_deg > 0`` every chunk of
    ``yaw_block`` samples of :meth:`generate` uses a BS azimuth orientation
    drawn uniformly in ``+/- bs_yaw_jitter_deg`` (CDL angles are fixed
    tables otherwise). :meth:`channel_model` uses ``bs_yaw_deg`` only.

    Parameters
    ----------
    name : `str`
        Registry name

    model : "A" | "B" | "C" | "D" | "E"
        CDL model

    delay_spread : `float`, (default 300e-9)
        RMS delay spread [s]

    min_speed, max_speed : `float`, (default 0, 0)
        UE speed range [m/s]

    bs_yaw_deg : `float`, (default 0)
        BS azimuth orientation [deg]

    bs_yaw_jitter_deg : `float`, (default 0)
        Half-width of the random BS yaw per chunk of generated samples [deg]

    yaw_block : `int`, (default 64)
        Samples per random BS yaw

    numerology, bs_array, seed, normalize, num_ue_ant :
        See :class:`~lasco_sionna.channels.Environment`
    """

    def __init__(self, name="cdl", model="C", delay_spread=300e-9,
                 min_speed=0.0, max_speed=0.0, bs_yaw_deg=0.0,
                 bs_yaw_jitter_deg=0.0, yaw_block=64,
                 numerology=Numerology(), bs_array=BSArray(), seed=0,
                 normalize=True, num_ue_ant=1):
        super().__init__(name, model, CDL_MODELS, delay_spread, min_speed,
                         max_speed, numerology, bs_array, seed, normalize,
                         num_ue_ant)
        check_number("bs_yaw_deg", bs_yaw_deg)
        check_positive("bs_yaw_jitter_deg", bs_yaw_jitter_deg, allow_zero=True)
        check_positive("yaw_block", yaw_block, integer=True)
        self.bs_yaw_deg = float(bs_yaw_deg)
        self.bs_yaw_jitter_deg = float(bs_yaw_jitter_deg)
        self.yaw_block = int(yaw_block)
        if self.bs_yaw_jitter_deg > 0:
            self._chunk = self.yaw_block

    def _params(self):
        return {**super()._params(), "bs_yaw_deg": self.bs_yaw_deg,
                "bs_yaw_jitter_deg": self.bs_yaw_jitter_deg,
                "yaw_block": self.yaw_block}

    def _channel_model(self, num_users, num_time_steps, sampling_frequency,
                       precision, normalize):
        fc = self.numerology.carrier_frequency
        bs, ut = _panel_arrays(self.bs_array, fc, precision, self.num_ue_ant)
        cdl = CDL(self.model, self.delay_spread, fc, ut, bs, "downlink",
                  bs_orientation=tf.constant(
                      [np.deg2rad(self.bs_yaw_deg), 0.0, 0.0],
                      tf.float32 if precision != "double" else tf.float64),
                  min_speed=self.min_speed, max_speed=self.max_speed,
                  precision=precision)
        return _LinkLevelChannel(cdl, num_users, self.numerology.frequencies,
                                 num_time_steps, sampling_frequency,
                                 normalize, precision=precision)

    def _before_chunk(self, gen, rng):
        if self.bs_yaw_jitter_deg > 0:
            yaw = self.bs_yaw_deg + rng.uniform(-self.bs_yaw_jitter_deg,
                                                self.bs_yaw_jitter_deg)
            gen.set_bs_yaw(np.deg2rad(yaw))


class TDLEnvironment(_DelayLineEnvironment):
    r"""TR 38.901 tapped delay line (TDL) environment with a known Doppler

    Sionna's :class:`~sionna.phy.channel.tr38901.TDL` generates every tap
    with a sum-of-sinusoids model of Clarke/Jakes fading: for NLoS models
    (A, B, C) each antenna-subcarrier entry has the temporal correlation
    :math:`J_0(2\pi f_D \tau)` with :math:`f_D` = :attr:`max_doppler` when
    ``min_speed == max_speed``, which makes it the reference for channel
    prediction (see :mod:`lasco_sionna.prediction.wiener`). BS antennas
    have the exponential correlation ``bs_correlation**|i-j|`` (Sionna's
    :func:`~sionna.phy.channel.exp_corr_mat`; 0 = independent antennas).
    Users of a multi-user draw are independent TDL draws.

    Parameters
    ----------
    name : `str`
        Registry name

    model : "A" | "B" | "C" | "D" | "E"
        TDL model (D and E have a LoS tap: not Jakes)

    delay_spread : `float`, (default 300e-9)
        RMS delay spread [s]

    min_speed, max_speed : `float`, (default 0, 0)
        UE speed range [m/s] (drawn uniformly per UE)

    bs_correlation : `float`, (default 0.0)
        Exponential correlation coefficient of neighbouring BS antennas,
        in [0, 1)

    num_sinusoids : `int`, (default 20)
        Sinusoids of Sionna's sum-of-sinusoids model

    numerology, bs_array, seed, normalize, num_ue_ant :
        See :class:`~lasco_sionna.channels.Environment`. Only the number of
        BS antennas of ``bs_array`` is used; UE antennas are uncorrelated.
    """

    def __init__(self, name="tdl", model="A", delay_spread=300e-9,
                 min_speed=0.0, max_speed=0.0, bs_correlation=0.0,
                 num_sinusoids=20, numerology=Numerology(),
                 bs_array=BSArray(), seed=0, normalize=True, num_ue_ant=1):
        super().__init__(name, model, TDL_MODELS, delay_spread, min_speed,
                         max_speed, numerology, bs_array, seed, normalize,
                         num_ue_ant)
        check_positive("bs_correlation", bs_correlation, allow_zero=True)
        if bs_correlation >= 1:
            raise ValueError("`bs_correlation` must be in [0, 1), got "
                             f"{bs_correlation!r}")
        check_positive("num_sinusoids", num_sinusoids, integer=True)
        self.bs_correlation = float(bs_correlation)
        self.num_sinusoids = int(num_sinusoids)

    @property
    def max_doppler(self):
        """`float` : Maximum Doppler frequency at ``max_speed`` [Hz]"""
        return float(max_doppler(self.max_speed,
                                 self.numerology.carrier_frequency))

    def _params(self):
        return {**super()._params(), "bs_correlation": self.bs_correlation,
                "num_sinusoids": self.num_sinusoids}

    def _channel_model(self, num_users, num_time_steps, sampling_frequency,
                       precision, normalize):
        tx_corr = None
        if self.bs_correlation > 0:
            tx_corr = exp_corr_mat(self.bs_correlation, self.num_bs_ant,
                                   precision=precision)
        tdl = TDL(self.model, self.delay_spread,
                  self.numerology.carrier_frequency,
                  num_sinusoids=self.num_sinusoids,
                  min_speed=self.min_speed, max_speed=self.max_speed,
                  num_rx_ant=self.num_ue_ant, num_tx_ant=self.num_bs_ant,
                  tx_corr_mat=tx_corr, precision=precision)
        return _LinkLevelChannel(tdl, num_users, self.numerology.frequencies,
                                 num_time_steps, sampling_frequency,
                                 normalize, precision=precision)


class _SystemLevelChannel(_MultiUserChannel):
    """In-graph UMi/UMa/RMa channel: one single-sector drop per example"""

    def __init__(self, env, num_users, num_time_steps, sampling_frequency,
                 normalize, precision=None):
        super().__init__(num_users, env.numerology.frequencies,
                         num_time_steps, sampling_frequency, normalize,
                         precision=precision)
        self._env = env
        fc = env.numerology.carrier_frequency
        bs, ut = _panel_arrays(env.bs_array, fc, precision, env.num_ue_ant)
        cls = SYSTEM_LEVEL_SCENARIOS[env.scenario]
        kwargs = {"carrier_frequency": fc, "ut_array": ut, "bs_array": bs,
                  "direction": "downlink", "enable_pathloss": True,
                  "enable_shadow_fading": True, "precision": precision}
        if env.scenario in ("umi", "uma"):
            kwargs["o2i_model"] = "low"
        self.model = cls(**kwargs)

    def raw_cir(self, batch_size, num_time_steps, sampling_frequency):
        env = self._env
        topo = gen_single_sector_topology(
            batch_size, self._num_users, env.scenario,
            min_ut_velocity=env.min_speed, max_ut_velocity=env.max_speed,
            indoor_probability=env.indoor_probability,
            precision=self.precision)
        ut_loc, bs_loc, ut_ori, bs_ori, ut_vel, in_state = topo
        self.model.set_topology(ut_loc, bs_loc, ut_ori, bs_ori, ut_vel,
                                in_state, los=env.los)
        # a: [batch_size, num_users, num_ue_ant, 1, num_bs_ant, num_paths, T]
        # tau: [batch_size, num_users, 1, num_paths]
        return self.model(num_time_steps, sampling_frequency)


class SystemLevelEnvironment(StochasticEnvironment):
    r"""TR 38.901 UMi / UMa / RMa single-sector drops

    UEs are dropped uniformly in a 120-degree sector (Sionna's
    :func:`~sionna.phy.channel.gen_single_sector_topology`), ``ues_per_drop``
    at a time, with path loss and shadow fading (stored as ``gain_db``).
    The extra ``drop`` numbers the drops of a draw: datasets split by drop.

    Parameters
    ----------
    name : `str`
        Registry name

    scenario : "umi" | "uma" | "rma"
        Scenario

    los : `None` (default) | `bool`
        Force LoS (`True`) or NLoS (`False`); `None` draws it per 38.901

    indoor_probability : `float`, (default 0.0)
        Probability that a UE is indoors

    min_speed, max_speed : `float`, (default 0, 0)
        UE speed range [m/s]

    ues_per_drop : `int`, (default 8)
        UEs dropped together in :meth:`generate`

    numerology, bs_array, seed, normalize, num_ue_ant :
        See :class:`~lasco_sionna.channels.Environment`
    """

    def __init__(self, name="umi", scenario="umi", los=None,
                 indoor_probability=0.0, min_speed=0.0, max_speed=0.0,
                 ues_per_drop=8, numerology=Numerology(), bs_array=BSArray(),
                 seed=0, normalize=True, num_ue_ant=1):
        super().__init__(name, numerology, bs_array, seed, normalize,
                         num_ue_ant)
        check_choice("scenario", scenario, tuple(SYSTEM_LEVEL_SCENARIOS))
        check_choice("los", los, (None, True, False))
        if not 0.0 <= indoor_probability <= 1.0:
            raise ValueError("`indoor_probability` must be in [0, 1], got "
                             f"{indoor_probability!r}")
        _check_speeds(min_speed, max_speed)
        check_positive("ues_per_drop", ues_per_drop, integer=True)
        self.scenario = scenario
        self.los = los
        self.indoor_probability = float(indoor_probability)
        self.min_speed = float(min_speed)
        self.max_speed = float(max_speed)
        self.ues_per_drop = int(ues_per_drop)

    def _params(self):
        return {"scenario": self.scenario, "los": self.los,
                "indoor_probability": self.indoor_probability,
                "min_speed": self.min_speed, "max_speed": self.max_speed,
                "ues_per_drop": self.ues_per_drop}

    def _channel_model(self, num_users, num_time_steps, sampling_frequency,
                       precision, normalize):
        return _SystemLevelChannel(self, num_users, num_time_steps,
                                   sampling_frequency, normalize,
                                   precision=precision)

    def _generate(self, num_samples, seed, num_time_steps, sampling_frequency):
        # Raw channels: Environment.generate normalises and keeps gain_db
        gen = self.channel_model(self.ues_per_drop, num_time_steps,
                                 sampling_frequency, precision="single",
                                 normalize=False)
        rng = np.random.default_rng(seed)
        chunks = []
        done = 0
        drops_per_chunk = max(1, self._chunk // self.ues_per_drop)
        while done < num_samples:
            with sionna_seed(int(rng.integers(2**31))):
                h = gen(drops_per_chunk).numpy()
            # [drops, ues_per_drop, num_ue_ant, 1, num_bs_ant, T, F]
            # -> [drops*ues_per_drop, 1, num_ue_ant, 1, num_bs_ant, T, F]
            h = h.reshape((-1, 1) + h.shape[2:])
            chunks.append(h[:num_samples - done])
            done += chunks[-1].shape[0]
        # UEs of one drop share a topology and large-scale parameters
        drop = np.arange(num_samples) // self.ues_per_drop
        return np.concatenate(chunks, axis=0), {"drop": drop.astype(np.int32)}


def _register_builtin():
    for m in CDL_MODELS:
        register_environment(
            f"cdl-{m.lower()}",
            functools.partial(CDLEnvironment, model=m),
            kind="stochastic", fixed={"model": m},
            description=f"TR 38.901 CDL-{m}, 300 ns delay spread (configurable)")
    for m in TDL_MODELS:
        register_environment(
            f"tdl-{m.lower()}",
            functools.partial(TDLEnvironment, model=m),
            kind="stochastic", fixed={"model": m},
            description=f"TR 38.901 TDL-{m} (Jakes Doppler), 300 ns delay "
                        "spread (configurable)")
    for sc in SYSTEM_LEVEL_SCENARIOS:
        for los, suffix, what in ((None, "", "LoS/NLoS per 38.901"),
                                  (True, "-los", "LoS"),
                                  (False, "-nlos", "NLoS")):
            register_environment(
                f"{sc}{suffix}",
                functools.partial(SystemLevelEnvironment, scenario=sc,
                                  los=los),
                kind="stochastic", fixed={"scenario": sc, "los": los},
                description=f"TR 38.901 {sc.upper()} sector drops, {what}")


_register_builtin()
