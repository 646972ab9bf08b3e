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

**Power.** The total transmit power per resource element is the number of
streams ``K`` (Sionna's convention: unit power per stream). MRT, ZF and RZF
give every stream power 1 through a unit-norm column; precoders that allocate
power (:class:`~lasco_sionna.precoding.WMMSEPrecodedChannel`,
:class:`~lasco_sionna.precoding.MaxMinPrecodedChannel`) return columns of
squared norms ``p_k`` with ``sum_k p_k = K`` exactly. Effective channels, and
hence SINRs and rates, include these powers.
"""

from abc import abstractmethod

import tensorflow as tf
from sionna.phy import config, dtypes
from sionna.phy.mimo import cbf_precoding_matrix, rzf_precoding_matrix
from sionna.phy.ofdm import PrecodedChannel, RemoveNulledSubcarriers
from sionna.phy.utils import expand_to_rank

from lasco_sionna.utils.validation import (check_finite_tensor, check_positive,
                                           check_positive_tensor)


def check_precoder_inputs(h, no, power, matrix_dims, precision=None):
    # pylint: disable=line-too-long
    r"""Checked and cast inputs of a batched precoding-matrix function

    Input
    -----
    h : [..., num_users, num_tx_ant] (``matrix_dims`` = 2) or [..., num_subcarriers, num_users, num_tx_ant] (3), `tf.complex`
        Channels; no NaN/Inf, known trailing dimensions

    no : `float` | tensor broadcastable to ``h.shape[:-2]``, `tf.float`
        Noise variance (> 0)

    power : `float` | `tf.float`
        Total transmit power (> 0)

    matrix_dims : `int`
        Trailing dimensions of ``h`` that must be known

    precision : `None` (default) | "single" | "double"
        Precision of the outputs

    Output
    ------
    h : same shape as ``h``, `tf.complex`
        Channels

    no : ``h.shape[:-2]``, `tf.float`
        Noise variance

    power : [], `tf.float`
        Total power
    """
    precision = precision or config.precision
    rdtype = dtypes[precision]["tf"]["rdtype"]
    h = check_finite_tensor("h", tf.cast(h, dtypes[precision]["tf"]["cdtype"]))
    if h.shape.rank is None or h.shape.rank < matrix_dims \
            or not h.shape[-matrix_dims:].is_fully_defined():
        raise ValueError(f"`h` needs {matrix_dims} known trailing dimensions "
                         f"[..., num_users, num_tx_ant], got {h.shape}")
    if isinstance(power, (int, float)):
        check_positive("power", power)
    power = check_positive_tensor("power", tf.cast(power, rdtype))
    no = check_positive_tensor("no", tf.cast(no, rdtype))
    try:
        no = tf.broadcast_to(no, tf.shape(h)[:-2])
    except (ValueError, tf.errors.InvalidArgumentError) as e:
        raise ValueError(f"`no` of shape {no.shape} does not broadcast to the "
                         f"channels' leading dimensions {h.shape[:-2]}") \
            from e
    return h, no, power


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
        Noise variance, used by noise-aware precoders (required by them)

    Output
    ------
    h_eff : [batch_size, num_rx, num_rx_ant, num_tx, num_streams_per_tx, num_ofdm_symbols, num_effective_subcarriers], `tf.complex`
        Effective channel after precoding
    """

    def __init__(self, resource_grid, stream_management, precision=None):
        super().__init__(resource_grid, stream_management,
                         precision=precision)
        # Sionna 1.2.2's PrecodedChannel builds this block in the default
        # precision, which casts double-precision effective channels to
        # single precision
        self._remove_nulled_scs = RemoveNulledSubcarriers(
            resource_grid, precision=precision)

    @property
    def total_power(self):
        """`int` : Total transmit power per resource element (= streams)"""
        return int(self._stream_management.num_streams_per_tx)

    def noise_variance(self, no, h_pc_desired):
        # pylint: disable=line-too-long
        r"""Checked noise variance, broadcast to one value per channel matrix

        Input
        -----
        no : `None` | `float` or [batch_size] tensor
            Noise variance (must be finite and > 0)

        h_pc_desired : [batch_size, num_tx, num_ofdm_symbols, fft_size, num_streams_per_tx, num_tx_ant], `tf.complex`
            Desired channels

        Output
        ------
        no : [batch_size, num_tx, num_ofdm_symbols, fft_size], `tf.float`
            Noise variance
        """
        if no is None:
            raise ValueError(f"{type(self).__name__} needs the noise "
                             "variance `no`")
        no = check_positive_tensor("no", tf.cast(no, self.rdtype))
        # [batch_size, num_tx, num_ofdm_symbols, fft_size]
        no = expand_to_rank(no, 4, axis=-1)
        return tf.broadcast_to(no, tf.shape(h_pc_desired)[:4])

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
            Precoding matrix; total power ``num_streams_per_tx`` per
            resource element (unit-norm columns unless the precoder
            allocates power)
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
        h_hat = check_finite_tensor("h_hat", tf.cast(h_hat, self.cdtype))
        h_pc_desired = self.get_desired_channels(h_hat)
        g = self.precoding_matrix(h_pc_desired, no=no)
        if tx_power is not None:
            tx_power = check_positive_tensor("tx_power",
                                             tf.cast(tx_power, self.rdtype))
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
        h = check_finite_tensor("h", tf.cast(h, self.cdtype))
        if h_hat is None:
            h_hat = h
        h_hat = tf.cast(h_hat, self.cdtype)
        if not h.shape[1:5].is_compatible_with(h_hat.shape[1:5]):
            raise ValueError(f"`h` and `h_hat` must have the same receivers "
                             f"and antennas, got shapes {tuple(h.shape)} and "
                             f"{tuple(h_hat.shape)}")
        g = self.compute_precoding_matrix(h_hat, tx_power=tx_power, no=no)
        return self.compute_effective_channel(h, g)


class RegularizedZFPrecodedChannel(LinearPrecodedChannel):
    # pylint: disable=line-too-long
    r"""Regularised zero-forcing precoder ``G = H^H (H H^H + alpha I)^{-1}``, unit-norm columns

    Unlike Sionna's :class:`~sionna.phy.ofdm.RZFPrecodedChannel` (whose
    name it avoids: the signatures differ), the regularisation is set at
    construction (``"mmse"`` by default: from the noise variance ``no``
    given at call time), ``tx_power`` is optional, and the matrix, once
    computed (:meth:`compute_precoding_matrix`), serves both precoding and
    the effective channel.

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
            # [batch_size, num_tx, num_ofdm_symbols, fft_size]
            alpha = self.noise_variance(no, h_pc_desired)
        else:
            alpha = tf.cast(self.alpha, self.rdtype)
            # [batch_size, num_tx, num_ofdm_symbols, fft_size]
            alpha = tf.broadcast_to(alpha, tf.shape(h_pc_desired)[:4])
        return rzf_precoding_matrix(h_pc_desired, alpha,
                                    precision=self.precision)


#: Relative diagonal loading of a singular Gram matrix in :class:`ZFPrecodedChannel`, per precision
ZF_LOADING = {"single": 1e-5, "double": 1e-10}


class ZFPrecodedChannel(RegularizedZFPrecodedChannel):
    r"""Zero-forcing precoder (RZF with ``alpha = 0``)

    Requires ``num_streams_per_tx <= num_tx_ant``. Channel knowledge that
    is (nearly) rank-deficient (e.g. quantised CSI of two users that maps
    to the same codewords, users on the same LoS ray in ray-traced scenes)
    makes the Gram matrix :math:`HH^H` singular, and Sionna's Cholesky
    solve then returns NaN precoders. On those resource elements only,
    the Gram matrix gets a relative diagonal loading of
    :data:`ZF_LOADING` (times its mean diagonal): finite, unit-norm
    columns on any input, exact ZF wherever it exists. Use
    :class:`RegularizedZFPrecodedChannel` for a noise-aware trade-off.

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
        h = tf.cast(h_pc_desired, self.cdtype)
        # Exact ZF: [batch_size, num_tx, num_ofdm_symbols, fft_size, num_tx_ant, num_streams_per_tx]
        g = super().precoding_matrix(h, no=no)
        # Where the Cholesky solve failed (singular Gram), the loaded one
        ok = tf.reduce_all(tf.math.is_finite(tf.math.real(g)) &
                           tf.math.is_finite(tf.math.imag(g)),
                           axis=[-2, -1], keepdims=True)

        def loaded():
            # Mean diagonal of H H^H: [batch_size, num_tx, num_ofdm_symbols, fft_size]
            scale = tf.reduce_mean(tf.reduce_sum(tf.abs(h) ** 2, axis=-1),
                                   axis=-1)
            loading = ZF_LOADING[self.precision or config.precision]
            # The floor keeps all-zero channels finite (zero precoders)
            alpha = loading * scale + tf.cast(1e-30, self.rdtype)
            return tf.where(ok, g, rzf_precoding_matrix(
                h, alpha, precision=self.precision))

        # The second solve only when some Gram matrix was singular
        return tf.cond(tf.reduce_all(ok), lambda: g, loaded)


class MRTPrecodedChannel(LinearPrecodedChannel):
    # pylint: disable=line-too-long
    r"""Maximum-ratio transmission ``G = H^H``, unit-norm columns

    Stream ``k`` is sent along ``h_k^H / ||h_k||``, the unit vector that
    maximises user ``k``'s own gain ``|h_k g_k|^2`` (interference ignored).
    Sionna calls it conjugate beamforming
    (:func:`~sionna.phy.mimo.cbf_precoding_matrix`).

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
    See :class:`LinearPrecodedChannel`.

    Output
    ------
    See :class:`LinearPrecodedChannel`.
    """

    def precoding_matrix(self, h_pc_desired, no=None):
        return cbf_precoding_matrix(h_pc_desired, precision=self.precision)
