#
# SPDX-License-Identifier: Apache-2.0
#
"""Time-varying channels as datasets: report sequences at a speed and report period, noisy histories, windows"""

import numpy as np
import tensorflow as tf
from sionna.phy.channel import AWGN

from lasco_sionna.channels import (build_dataset, get_environment,
                                   list_environments)
from lasco_sionna.utils.rng import sionna_seed
from lasco_sionna.utils.validation import (check_channel_tensor,
                                           check_positive)

#: Default CSI report period [s]
REPORT_PERIOD = 5e-3


def speed_params(name, speed_kmh):
    """Environment parameters that make every UE of ``name`` move at ``speed_kmh``

    Input
    -----
    name : `str`
        Registry name (see :func:`~lasco_sionna.channels.list_environments`)

    speed_kmh : `float`
        UE speed [km/h]

    Output
    ------
    params : `dict`
        ``{"ue_speed": v}`` for ray-traced environments, ``{"min_speed": v,
        "max_speed": v}`` otherwise (``v`` in m/s)
    """
    check_positive("speed_kmh", speed_kmh, allow_zero=True)
    v = float(speed_kmh) / 3.6
    if name in list_environments(kind="raytraced"):
        return {"ue_speed": v}
    return {"min_speed": v, "max_speed": v}


def environment_at_speed(name, speed_kmh, time_model=None, **kwargs):
    """A registered environment whose UEs all move at ``speed_kmh``

    Stochastic environments (CDL, TDL, UMi/UMa/RMa) get ``min_speed =
    max_speed`` and evolve through Sionna's time sampling; ray-traced ones
    get ``ue_speed`` and evolve by ``time_model``: Doppler over frozen
    geometry (fine over a few wavelengths) or re-tracing along each UE's
    straight trajectory (see
    :class:`~lasco_sionna.channels.RayTracedEnvironment`).

    Input
    -----
    name : `str`
        Registry name (see :func:`~lasco_sionna.channels.list_environments`)

    speed_kmh : `float`
        UE speed [km/h]

    time_model : `None` (default) | "doppler" | "retrace"
        Time model of a ray-traced environment (`None`: its default,
        "doppler"); not accepted for stochastic environments

    kwargs :
        Other parameters of the environment

    Output
    ------
    env : :class:`~lasco_sionna.channels.Environment`
    """
    params = speed_params(name, speed_kmh)
    if time_model is not None:
        if name not in list_environments(kind="raytraced"):
            raise ValueError(f"`time_model`={time_model!r} is for ray-traced "
                             f"environments; {name!r} evolves through "
                             "Sionna's time sampling (give `time_model`="
                             "None)")
        params["time_model"] = time_model
    return get_environment(name, **params, **kwargs)


def report_sequences(environment, num_sequences, num_reports,
                     report_period=REPORT_PERIOD, seed=None, **kwargs):
    # pylint: disable=line-too-long
    r"""Sequences of CSI reports of an environment, cached like every dataset

    One UE per sequence, sampled every ``report_period`` through Sionna's
    time sampling of the channel model (geometry frozen per UE), or, for a
    ray-traced environment with ``time_model="retrace"``, traced anew at
    every report along the UE's straight trajectory (``report_period``
    apart in time, ``ue_speed * report_period`` apart in space). Built
    with :func:`~lasco_sionna.channels.build_dataset` (HDF5 cache keyed by
    the full configuration, speed, time model and report period included;
    a lock for concurrent builds; progress bar while generating).

    Input
    -----
    environment : :class:`~lasco_sionna.channels.Environment`
        E.g. from :func:`environment_at_speed`

    num_sequences : `int`
        Number of UEs

    num_reports : `int`
        Reports per sequence, :math:`T`

    report_period : `float`, (default 5e-3)
        Report period [s]

    seed : `None` (default) | `int`
        Seed (the environment's if `None`)

    kwargs :
        Passed to :func:`~lasco_sionna.channels.build_dataset` (e.g.
        ``cache_dir``, ``progress``)

    Output
    ------
    dataset : :class:`~lasco_sionna.channels.ChannelDataset`
        ``dataset.as_matrix(time_step=None)`` is
        ``[num_sequences, num_reports, num_bs_ant, fft_size]``
    """
    check_positive("report_period", report_period)
    return build_dataset(environment, num_sequences, seed=seed,
                         num_time_steps=num_reports,
                         sampling_frequency=1.0 / report_period, **kwargs)


def noisy_reports(h, snr_db, seed=None, precision=None):
    # pylint: disable=line-too-long
    r"""Reports measured by the UE at a given SNR: AWGN on every entry

    The noise variance of every entry is the mean power of the UE's
    reports (over the last three dimensions: reports, antennas,
    subcarriers) divided by :math:`10^{\text{SNR}/10}`: the SNR of the
    channel estimate, per entry, independent across reports. Sionna's
    :class:`~sionna.phy.channel.AWGN`, seeded by ``seed``.

    Input
    -----
    h : [..., num_reports, num_bs_ant, fft_size], `tf.complex` | `np.complex`
        Clean reports

    snr_db : `float`
        Measurement SNR [dB]

    seed : `None` (default) | `int`
        Seed of the noise (Sionna's global generator if `None`)

    precision : `None` (default) | "single" | "double"
        Precision of the output

    Output
    ------
    y : [..., num_reports, num_bs_ant, fft_size], `tf.complex`
        Noisy reports

    no : [..., 1, 1, 1], `tf.float`
        Noise variance per entry
    """
    h = tf.convert_to_tensor(h)
    check_channel_tensor("h", h, last_dims=(None, None, None))
    if not np.isfinite(snr_db):
        raise ValueError(f"`snr_db` must be finite, got {snr_db!r}")
    awgn = AWGN(precision=precision)
    h = tf.cast(h, awgn.cdtype)
    # [..., 1, 1, 1]
    power = tf.reduce_mean(tf.abs(h) ** 2, axis=[-3, -2, -1], keepdims=True)
    no = power / tf.cast(10.0 ** (snr_db / 10.0), power.dtype)
    if seed is None:
        return awgn(h, no), no
    with sionna_seed(int(seed)):
        return awgn(h, no), no


def sliding_windows(sequences, history_length, horizon, stride=1):
    # pylint: disable=line-too-long
    r"""Every (history, future) pair of report sequences

    Input
    -----
    sequences : [num_sequences, num_reports, num_bs_ant, fft_size], `np.ndarray`
        Report sequences (``num_reports >= history_length + horizon``)

    history_length : `int`
        Past reports, :math:`L`

    horizon : `int`
        Future reports, :math:`H`

    stride : `int`, (default 1)
        Reports between the starts of two windows

    Output
    ------
    history : [num_windows, history_length, num_bs_ant, fft_size], `np.ndarray`
        Past reports, oldest first

    future : [num_windows, horizon, num_bs_ant, fft_size], `np.ndarray`
        The next reports
    """
    check_positive("history_length", history_length, integer=True)
    check_positive("horizon", horizon, integer=True)
    check_positive("stride", stride, integer=True)
    x = np.asarray(sequences)
    if x.ndim != 4:
        raise ValueError("`sequences` must have shape [num_sequences, "
                         f"num_reports, num_bs_ant, fft_size], got {x.shape}")
    n = history_length + horizon
    if x.shape[1] < n:
        raise ValueError(f"sequences of {x.shape[1]} reports are shorter "
                         f"than history_length + horizon = {n}")
    starts = range(0, x.shape[1] - n + 1, stride)
    # [num_sequences, num_starts, L + H, num_bs_ant, fft_size]
    w = np.stack([x[:, s:s + n] for s in starts], axis=1)
    # [num_windows, L + H, num_bs_ant, fft_size]
    w = w.reshape((-1,) + w.shape[2:])
    return w[:, :history_length], w[:, history_length:]


def entry_windows(windows):
    # pylint: disable=line-too-long
    r"""One window per antenna-subcarrier entry, for predictors whose weights all entries share

    Input
    -----
    windows : [num_windows, length, num_bs_ant, fft_size], `np.ndarray`
        Windows of reports (e.g. from :func:`sliding_windows`)

    Output
    ------
    windows : [num_windows * num_bs_ant * fft_size, length, 1, 1], `np.ndarray`
        The sequence of every entry as a window of 1 x 1 reports
    """
    x = np.asarray(windows)
    if x.ndim != 4:
        raise ValueError("`windows` must have shape [num_windows, length, "
                         f"num_bs_ant, fft_size], got {x.shape}")
    # [num_windows, num_bs_ant, fft_size, length]
    x = np.transpose(x, (0, 2, 3, 1))
    # [num_windows * num_bs_ant * fft_size, length, 1, 1]
    return x.reshape((-1, x.shape[-1], 1, 1))
