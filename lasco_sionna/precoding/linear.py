#
# SPDX-License-Identifier: Apache-2.0
#
"""Pluggable linear precoders built on Sionna's ``PrecodedChannel``

A precoder here does three things from the BS's *knowledge* of the channel
``h_hat`` (which may differ from the actual channel ``h``):
it computes the precoding matrix ``g``, precodes resource grids with it, and
gives the effective channel ``h g`` of the *actual* channel. Sionna's
:class:`~sionna.phy.ofdm.RZFPrecoder` computes ``g`` from the same channel it
returns the effective channel for, which cannot model imperfect CSI at the
transmitter; these classes separate the two.
"""

from abc import abstractmethod

import tensorflow as tf
from sionna.phy.mimo import rzf_precoding_matrix
from sionna.phy.ofdm import PrecodedChannel
from sionna.phy.utils import expand_to_rank

from lasco_sionna.utils.validation import check_positive, split_spec


class LinearPrecodedChannel(PrecodedChannel):
    # pylint: disable=line-too-long
    r"""Abstract linear precoder with separate channel knowledge and actual channel

    Parameters
    ----------
    resource_grid : :class:`~sionna.phy.ofdm.ResourceGrid`
        Resource grid

    stream_management : :class:`~sionna.phy.mimo.StreamManagement`
        Stream management

    precision : `None` (default) | "single" | "double"
        Precision of internal computations and outputs

    Input
    -----
    h : [batch_size, num_rx, num_rx_ant, num_tx, num_tx_ant, num_ofdm_symbols, fft_size], `tf.complex`
        Actual channel realizations

    tx_power : `None` (default) | [batch_size, num_tx, num_streams_per_tx, num_ofdm_symbols, fft_size] (or first n dims), `tf.float`
        Power of each stream; unit power if `None`

    h_hat : `None` (default) | [batch_size, num_rx, num_rx_ant, num_tx, num_tx_ant, num_ofdm_symbols, fft_size], `tf.complex`
        Channel knowledge of the transmitter; ``h`` if `None`

    no : `None` (default) | `float` or [batch_size] tensor
        Noise variance, used by noise-aware precoders

    Output
    ------
    h_eff : [batch_size, num_rx, num_rx_ant, num_tx, num_streams_per_tx, num_ofdm_symbols, num_effective_subcarriers], `tf.complex`
        Effective channel after precoding
    """

    def __init__(self, resource_grid, stream_management, precision=None):
        super().__init__(resource_grid, stream_management,
                         precision=precision)

    @abstractmethod
    def precoding_matrix(self, h_pc_desired, no=None):
        # pylint: disable=line-too-long
        r"""Precoding matrix from the desired channels

        Input
        -----
        h_pc_desired : [batch_size, num_tx, num_ofdm_symbols, fft_size, num_streams_per_tx, num_tx_ant], `tf.complex`
            Channels to the intended receivers (transmitter's knowledge)

        no : `None` | `float` or [batch_size] tensor
            Noise variance

        Output
        ------
        g : [batch_size, num_tx, num_ofdm_symbols, fft_size, num_tx_ant, num_streams_per_tx], `tf.complex`
            Precoding matrix with unit-norm columns
        """

    def compute_precoding_matrix(self, h_hat, tx_power=None, no=None):
        # pylint: disable=line-too-long
        r"""Precoding matrix (with transmit power applied) from channel knowledge

        Input
        -----
        h_hat : [batch_size, num_rx, num_rx_ant, num_tx, num_tx_ant, num_ofdm_symbols, fft_size], `tf.complex`
            Channel knowledge of the transmitter. ``num_ofdm_symbols`` may be
            1: the matrix is then broadcast over the slot.

        tx_power : `None` | [batch_size, num_tx, num_streams_per_tx, num_ofdm_symbols, fft_size] (or first n dims), `tf.float`
            Stream powers; unit power if `None`

        no : `None` | `float` or [batch_size] tensor
            Noise variance

        Output
        ------
        g : [batch_size, num_tx, num_ofdm_symbols, fft_size, num_tx_ant, num_streams_per_tx], `tf.complex`
            Precoding matrix
        """
        h_hat = tf.cast(h_hat, self.cdtype)
        h_pc_desired = self.get_desired_channels(h_hat)
        g = self.precoding_matrix(h_pc_desired, no=no)
        if tx_power is not None:
            g = self.apply_tx_power(g, tx_power)
        return g

    def precode(self, x, g):
        # pylint: disable=line-too-long
        r"""Precode resource grids

        Input
        -----
        x : [batch_size, num_tx, num_streams_per_tx, num_ofdm_symbols, fft_size], `tf.complex`
            Resource grids

        g : [batch_size, num_tx, num_ofdm_symbols or 1, fft_size, num_tx_ant, num_streams_per_tx], `tf.complex`
            Precoding matrix

        Output
        ------
        x_precoded : [batch_size, num_tx, num_tx_ant, num_ofdm_symbols, fft_size], `tf.complex`
            Precoded resource grids
        """
        x = tf.cast(x, self.cdtype)
        # [batch_size, num_tx, num_ofdm_symbols, fft_size, num_streams_per_tx, 1]
        x = tf.expand_dims(tf.transpose(x, [0, 1, 3, 4, 2]), -1)
        # [batch_size, num_tx, num_ofdm_symbols, fft_size, num_tx_ant]
        x_precoded = tf.squeeze(tf.matmul(g, x), -1)
        # [batch_size, num_tx, num_tx_ant, num_ofdm_symbols, fft_size]
        return tf.transpose(x_precoded, [0, 1, 4, 2, 3])

    def call(self, h, tx_power=None, h_hat=None, no=None):
        if h_hat is None:
            h_hat = h
        g = self.compute_precoding_matrix(h_hat, tx_power=tx_power, no=no)
        return self.compute_effective_channel(h, g)


class RZFPrecodedChannel(LinearPrecodedChannel):
    # pylint: disable=line-too-long
    r"""Regularised zero-forcing precoder ``G = H^H (H H^H + alpha I)^{-1}``, unit-norm columns

    Parameters
    ----------
    resource_grid : :class:`~sionna.phy.ofdm.ResourceGrid`
        Resource grid

    stream_management : :class:`~sionna.phy.mimo.StreamManagement`
        Stream management

    alpha : `float` | "mmse", (default "mmse")
        Regularisation. ``"mmse"`` uses ``alpha = num_streams * no / P`` with
        ``P = num_streams`` (unit power per stream), i.e. ``alpha = no``,
        the MMSE-optimal value for i.i.d. channels with unit-gain entries.

    precision : `None` (default) | "single" | "double"
        Precision of internal computations and outputs

    Input
    -----
    See :class:`LinearPrecodedChannel`.

    Output
    ------
    See :class:`LinearPrecodedChannel`.
    """

    def __init__(self, resource_grid, stream_management, alpha="mmse",
                 precision=None):
        super().__init__(resource_grid, stream_management,
                         precision=precision)
        if alpha != "mmse":
            check_positive("alpha", alpha, allow_zero=True)
        self.alpha = alpha

    def precoding_matrix(self, h_pc_desired, no=None):
        if self.alpha == "mmse":
            if no is None:
                raise ValueError("RZF with alpha='mmse' needs the noise "
                                 "variance `no`")
            alpha = tf.cast(no, self.rdtype)
        else:
            alpha = tf.cast(self.alpha, self.rdtype)
        # [batch_size, num_tx, num_ofdm_symbols, fft_size]
        alpha = expand_to_rank(alpha, 4, axis=-1)
        alpha = tf.broadcast_to(alpha, tf.shape(h_pc_desired)[:4])
        return rzf_precoding_matrix(h_pc_desired, alpha,
                                    precision=self.precision)


class ZFPrecodedChannel(RZFPrecodedChannel):
    r"""Zero-forcing precoder (RZF with ``alpha = 0``)

    Requires ``num_streams_per_tx <= num_tx_ant`` and full-rank channel
    knowledge. Rank-deficient channels (e.g. users on the same LoS ray in
    ray-traced scenes) make the Gram matrix singular: use
    :class:`RZFPrecodedChannel` there.

    Parameters
    ----------
    resource_grid : :class:`~sionna.phy.ofdm.ResourceGrid`
        Resource grid

    stream_management : :class:`~sionna.phy.mimo.StreamManagement`
        Stream management

    precision : `None` (default) | "single" | "double"
        Precision of internal computations and outputs
    """

    def __init__(self, resource_grid, stream_management, precision=None):
        super().__init__(resource_grid, stream_management, alpha=0.0,
                         precision=precision)

    def precoding_matrix(self, h_pc_desired, no=None):
        num_streams, num_ant = h_pc_desired.shape[-2:]
        if (num_streams is not None and num_ant is not None
                and num_streams > num_ant):
            raise ValueError(f"ZF needs num_users <= num_bs_ant, got "
                             f"{num_streams} users/streams and {num_ant} "
                             "antennas; use RZF or fewer users")
        return super().precoding_matrix(h_pc_desired, no=no)


_PRECODERS = {"rzf": RZFPrecodedChannel, "zf": ZFPrecodedChannel}


def register_precoder(name, cls):
    """Register a :class:`LinearPrecodedChannel` subclass under ``name``"""
    if not (isinstance(cls, type) and issubclass(cls, LinearPrecodedChannel)):
        raise TypeError(f"{cls!r} is not a LinearPrecodedChannel subclass")
    if name in _PRECODERS:
        raise ValueError(f"precoder {name!r} is already registered")
    _PRECODERS[name] = cls


def get_precoder(spec, resource_grid, stream_management, precision=None):
    """Build a precoder from a name or ``{"name": ..., **params}``

    Input
    -----
    spec : `str` | `dict`
        e.g. ``"zf"``, ``"rzf"``, ``{"name": "rzf", "alpha": 0.1}``

    resource_grid, stream_management, precision :
        Passed to the precoder

    Output
    ------
    precoder : :class:`LinearPrecodedChannel`
    """
    if isinstance(spec, LinearPrecodedChannel):
        return spec
    name, params = split_spec("precoder (or a LinearPrecodedChannel)", spec)
    if name not in _PRECODERS:
        raise ValueError(f"unknown precoder {name!r}; valid names: "
                         + ", ".join(sorted(_PRECODERS)))
    try:
        return _PRECODERS[name](resource_grid, stream_management,
                                precision=precision, **params)
    except TypeError as e:
        raise TypeError(f"invalid parameters {params} for precoder "
                        f"{name!r}: {e}") from None
