#
# SPDX-License-Identifier: Apache-2.0
#
"""Environments and datasets as Sionna channel models: channel impulse responses ``(a, tau)`` of several UEs per example

The classes here implement :class:`sionna.phy.channel.ChannelModel`, so
Sionna's :class:`~sionna.phy.channel.OFDMChannel`,
:class:`~sionna.phy.channel.TimeChannel`,
:class:`~sionna.phy.channel.GenerateOFDMChannel` and
:class:`~sionna.phy.channel.GenerateTimeChannel` take them as they take
Sionna's CDL or UMi models, and a dataset's impulse responses can feed a
:class:`~sionna.phy.channel.CIRDataset`. ``num_users`` UEs are stacked as
the receivers of one BS (downlink, Sionna's convention: the BS transmits) or
as the transmitters to it (uplink: the reciprocal channel, the same draw
with receivers and transmitters swapped).
"""

import numpy as np
import tensorflow as tf
from sionna.phy.channel import ChannelModel

from lasco_sionna.channels.dataset import (ChannelDataset, UserSampler,
                                           build_dataset)
from lasco_sionna.channels.environment import Environment
from lasco_sionna.utils.validation import check_choice, check_positive

#: Link directions
DIRECTIONS = ("downlink", "uplink")


def to_uplink(a, tau):
    # pylint: disable=line-too-long
    r"""The reciprocal (uplink) impulse response of a downlink one: receivers and transmitters swapped

    Input
    -----
    a : [batch_size, num_rx, num_rx_ant, num_tx, num_tx_ant, num_paths, num_time_steps], `tf.complex`
        Downlink path coefficients

    tau : [batch_size, num_rx, num_tx, num_paths], `tf.float`
        Downlink path delays [s]

    Output
    ------
    a : [batch_size, num_tx, num_tx_ant, num_rx, num_rx_ant, num_paths, num_time_steps], `tf.complex`
        Uplink path coefficients

    tau : [batch_size, num_tx, num_rx, num_paths], `tf.float`
        Uplink path delays [s]
    """
    # [batch_size, num_tx, num_tx_ant, num_rx, num_rx_ant, num_paths, T]
    a = tf.transpose(a, [0, 3, 4, 1, 2, 5, 6])
    # [batch_size, num_tx, num_rx, num_paths]
    tau = tf.transpose(tau, [0, 2, 1, 3])
    return a, tau


class EnvironmentChannelModel(ChannelModel):
    # pylint: disable=line-too-long
    r"""A 3GPP stochastic environment as a Sionna channel model, fresh draws at every call

    Wraps Sionna's own model of the environment (CDL, TDL, UMi, UMa, RMa,
    with the environment's arrays and parameters): ``num_users`` independent
    CDL/TDL draws, or one single-sector UMi/UMa/RMa drop of ``num_users``
    UEs, per batch example. With ``normalize`` (the environment's setting by
    default) every UE's path coefficients are scaled so that its frequency
    response at the environment's subcarriers has unit mean energy per
    element (over its antennas, the BS antennas, the time steps and the
    subcarriers), exactly as the environment's datasets are normalised
    (:func:`~lasco_sionna.channels.normalize_per_sample`): path loss and
    shadowing do not shift the SNR.

    Parameters
    ----------
    environment : :class:`~lasco_sionna.channels.StochasticEnvironment`
        Environment

    num_users : `int`
        UEs per batch example

    direction : "downlink" (default) | "uplink"
        Downlink: the BS is the transmitter (``num_rx = num_users``);
        uplink: the UEs are the transmitters (``num_tx = num_users``)

    normalize : `None` (default) | `bool`
        Per-UE normalisation; `None`: the environment's ``normalize``

    precision : `None` (default) | "single" | "double"
        Precision of the outputs

    Input
    -----
    batch_size : `int`
        Batch size

    num_time_steps : `int`
        Number of time steps

    sampling_frequency : `float`
        Sampling frequency [Hz]

    Output
    ------
    a : [batch_size, num_users, num_ue_ant, 1, num_bs_ant, num_paths, num_time_steps] (downlink) | [batch_size, 1, num_bs_ant, num_users, num_ue_ant, num_paths, num_time_steps] (uplink), `tf.complex`
        Path coefficients

    tau : [batch_size, num_users, 1, num_paths] (downlink) | [batch_size, 1, num_users, num_paths] (uplink), `tf.float`
        Path delays [s]
    """

    def __init__(self, environment, num_users, direction="downlink",
                 normalize=None, precision=None):
        super().__init__(precision=precision)
        if not isinstance(environment, Environment) or \
                environment.kind != "stochastic":
            raise TypeError("`environment` must be a stochastic Environment "
                            f"(3GPP), got {environment!r}; ray-traced "
                            "environments are drawn from a dataset (see "
                            "as_channel_model)")
        check_choice("direction", direction, DIRECTIONS)
        self.environment = environment
        self.num_users = int(check_positive("num_users", num_users,
                                            integer=True))
        self.direction = direction
        self._gen = environment.channel_model(num_users, precision=precision,
                                              normalize=normalize)

    def __call__(self, batch_size, num_time_steps, sampling_frequency):
        a, tau = self._gen.cir(batch_size, num_time_steps,
                               sampling_frequency)
        a = tf.cast(a, self.cdtype)
        tau = tf.cast(tau, self.rdtype)
        if self.direction == "uplink":
            a, tau = to_uplink(a, tau)
        return a, tau


class DatasetChannelModel(ChannelModel):
    # pylint: disable=line-too-long
    r"""A :class:`~lasco_sionna.channels.ChannelDataset` as a Sionna channel model

    Every call draws ``num_users`` distinct UEs of the dataset per batch
    example (:class:`~lasco_sionna.channels.dataset.UserSampler`: seeded by
    ``sionna.phy.config.seed``, users of one example share a BS site) and
    returns their impulse responses, normalised as the dataset is:

    - datasets that store the impulse response (ray-traced datasets: extras
      ``cir_a``, ``cir_tau``) return those paths;
    - other datasets (3GPP, which store the frequency response ``h`` only)
      return its exact discrete equivalent: the ``fft_size`` taps
      :math:`g_\ell = \frac{1}{F}\sum_n h_n e^{j2\pi n\ell/F}` of the
      inverse DFT at delays :math:`\tau_\ell = \ell / (F\Delta f)`, with
      :math:`F` = ``fft_size`` and :math:`\Delta f` the dataset's
      subcarrier spacing. :func:`~sionna.phy.channel.cir_to_ofdm_channel`
      of these taps at the dataset's subcarriers (an ``OFDMChannel`` with
      the dataset's numerology) gives back ``h`` exactly; at other
      subcarriers, or in the time domain (``TimeChannel``), it is the
      band-limited interpolation of ``h``.

    A dataset with one snapshot gives a channel constant over the
    ``num_time_steps`` of a call (block fading); a dataset with several
    snapshots gives its first ``num_time_steps`` (at the dataset's snapshot
    rate: ``sampling_frequency`` is not used).

    Parameters
    ----------
    dataset : :class:`~lasco_sionna.channels.ChannelDataset`
        UE channels

    num_users : `int`
        UEs per batch example

    direction : "downlink" (default) | "uplink"
        Downlink: the BS is the transmitter (``num_rx = num_users``);
        uplink: the UEs are the transmitters (``num_tx = num_users``)

    precision : `None` (default) | "single" | "double"
        Precision of the outputs

    Input
    -----
    batch_size : `int`
        Batch size

    num_time_steps : `None` | `int`
        Number of time steps; `None`: the dataset's snapshots

    sampling_frequency : `None` | `float`
        Not used (the dataset's snapshot rate applies)

    Output
    ------
    a : [batch_size, num_users, num_ue_ant, 1, num_bs_ant, num_paths, num_time_steps] (downlink) | [batch_size, 1, num_bs_ant, num_users, num_ue_ant, num_paths, num_time_steps] (uplink), `tf.complex`
        Path coefficients

    tau : [batch_size, num_users, 1, num_paths] (downlink) | [batch_size, 1, num_users, num_paths] (uplink), `tf.float`
        Path delays [s]
    """

    def __init__(self, dataset, num_users, direction="downlink",
                 precision=None):
        super().__init__(precision=precision)
        self._sampler = UserSampler(dataset, num_users)
        check_choice("direction", direction, DIRECTIONS)
        self.dataset = dataset
        self.num_users = int(num_users)
        self.direction = direction
        n, u, nt = len(dataset), dataset.num_ue_ant, dataset.num_bs_ant
        if "cir_a" in dataset.extras and "cir_tau" in dataset.extras:
            tau = dataset.extras["cir_tau"]
            # [num_samples, num_ue_ant, num_bs_ant, num_paths, T]
            a = dataset.extras["cir_a"].reshape(
                (n, u, nt, tau.shape[1], -1))
            self.source = "stored"
        else:
            f = dataset.fft_size
            scs = dataset.config["env"]["numerology"]["subcarrier_spacing"]
            # DC to index 0: [num_samples, num_ue_ant, num_bs_ant, T, F]
            h = np.fft.ifftshift(dataset.h[:, 0, :, 0], axes=-1)
            # Taps at l / (F * scs): [num_samples, num_ue_ant, num_bs_ant, T, F]
            g = np.fft.ifft(h, axis=-1)
            # [num_samples, num_ue_ant, num_bs_ant, num_paths = F, T]
            a = np.swapaxes(g, -1, -2)
            # [num_samples, num_paths]
            tau = np.broadcast_to(np.arange(f) / (f * scs), (n, f))
            self.source = "taps"
        self._num_snapshots = a.shape[-1]
        self._a = tf.constant(a, self.cdtype)
        self._tau = tf.constant(tau, self.rdtype)

    @property
    def num_paths(self):
        """`int` : Paths per link"""
        return int(self._tau.shape[1])

    def __call__(self, batch_size, num_time_steps=None,
                 sampling_frequency=None):
        t = self._num_snapshots if num_time_steps is None else num_time_steps
        check_positive("num_time_steps", t, integer=True)
        if 1 < self._num_snapshots < t:
            raise ValueError(f"`num_time_steps`={t} exceeds the "
                             f"{self._num_snapshots} snapshots of the dataset")
        # [batch_size, num_users]
        idx = self._sampler(batch_size)
        # [batch_size, num_users, num_ue_ant, num_bs_ant, num_paths, T_data]
        a = tf.gather(self._a, idx)
        if self._num_snapshots == 1:
            # Block fading: [..., num_paths, t]
            a = tf.repeat(a, t, axis=-1)
        else:
            # [..., num_paths, t]
            a = a[..., :t]
        # [batch_size, num_users, num_ue_ant, 1, num_bs_ant, num_paths, t]
        a = a[:, :, :, tf.newaxis]
        # [batch_size, num_users, 1, num_paths]
        tau = tf.gather(self._tau, idx)[:, :, tf.newaxis]
        if self.direction == "uplink":
            a, tau = to_uplink(a, tau)
        return a, tau


def as_channel_model(source, num_users, direction="downlink", precision=None,
                     **kwargs):
    # pylint: disable=line-too-long
    r"""An environment or a dataset as a Sionna :class:`~sionna.phy.channel.ChannelModel`

    ``OFDMChannel(as_channel_model(env, 4), resource_grid)`` is then
    Sionna's OFDM channel with the environment's UEs; see
    :class:`EnvironmentChannelModel` and :class:`DatasetChannelModel`.

    Input
    -----
    source : :class:`~lasco_sionna.channels.Environment` | :class:`~lasco_sionna.channels.ChannelDataset`
        A stochastic environment (fresh draws at every call), a ray-traced
        environment (drawn from its cached dataset: ray tracing costs about
        30 s per 1,000 UEs on a CPU, far too much per batch), or a dataset

    num_users : `int`
        UEs per batch example

    direction : "downlink" (default) | "uplink"
        Link direction (Sionna's convention: downlink, the BS transmits)

    precision : `None` (default) | "single" | "double"
        Precision of the outputs

    kwargs :
        Stochastic environment: ``normalize``. Ray-traced environment:
        ``num_samples`` (required) and any other argument of
        :func:`~lasco_sionna.channels.build_dataset` (``seed``,
        ``num_time_steps``, ``cache_dir``, ...), plus ``split`` (default
        ``"all"``; e.g. ``"test"`` for test places only). Dataset: none.

    Output
    ------
    model : :class:`EnvironmentChannelModel` | :class:`DatasetChannelModel`
    """
    if isinstance(source, ChannelDataset):
        if kwargs:
            raise TypeError("unexpected keyword arguments for a dataset: "
                            + ", ".join(sorted(kwargs)))
        return DatasetChannelModel(source, num_users, direction, precision)
    if isinstance(source, Environment) and source.kind == "stochastic":
        unknown = set(kwargs) - {"normalize"}
        if unknown:
            raise TypeError("unexpected keyword arguments for a stochastic "
                            f"environment: {', '.join(sorted(unknown))}; "
                            "allowed: normalize")
        return EnvironmentChannelModel(source, num_users, direction,
                                       precision=precision, **kwargs)
    if isinstance(source, Environment):
        if "num_samples" not in kwargs:
            raise TypeError("a ray-traced environment is drawn from its "
                            "cached dataset: give `num_samples` (UEs traced "
                            "once, about 30 s per 1,000 on a CPU)")
        split = kwargs.pop("split", "all")
        ds = build_dataset(source, **kwargs).split(split)
        return DatasetChannelModel(ds, num_users, direction, precision)
    raise TypeError("`source` must be an Environment or a ChannelDataset, got "
                    f"{type(source).__name__}")
