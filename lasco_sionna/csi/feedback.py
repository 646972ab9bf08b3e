#
# SPDX-License-Identifier: Apache-2.0
#
"""The pluggable CSI path: UE encoder -> feedback payload in bits -> BS reconstruction"""

from abc import abstractmethod

import tensorflow as tf
from sionna.phy import Block
from sionna.phy.fec.utils import bin2int_tf, int2bin_tf

from lasco_sionna.csi.representation import (
    angular_delay_to_spatial_frequency, spatial_frequency_to_angular_delay)
from lasco_sionna.utils.validation import (check_channel_tensor,
                                           check_positive, split_spec)


class CSIFeedback(Block):
    # pylint: disable=line-too-long
    r"""Base class of CSI feedback paths

    A CSI path describes what the BS learns about a user's downlink channel
    ``H in C^{num_bs_ant x fft_size}``: the UE-side :meth:`encode` maps the
    measured channel to a payload of :attr:`payload_bits` bits, the BS-side
    :meth:`decode` maps the payload back to a channel estimate. ``call``
    chains both, so the link only sees ``h -> h_hat``. Learned paths (LAM,
    SAMs, predictors) subclass this and may override ``call`` with a
    differentiable surrogate of the bit pipe, as long as ``encode``/``decode``
    stay consistent with it.

    Parameters
    ----------
    num_bs_ant : `int`
        BS antennas ``Nt``

    fft_size : `int`
        Subcarriers ``F``

    precision : `None` (default) | "single" | "double"
        Precision of internal computations and outputs

    Input
    -----
    h : [..., num_bs_ant, fft_size], `tf.complex`
        Channels measured by the UEs

    Output
    ------
    h_hat : [..., num_bs_ant, fft_size], `tf.complex`
        Channels reconstructed at the BS
    """

    def __init__(self, num_bs_ant, fft_size, precision=None):
        super().__init__(precision=precision)
        check_positive("num_bs_ant", num_bs_ant, integer=True)
        check_positive("fft_size", fft_size, integer=True)
        self.num_bs_ant = int(num_bs_ant)
        self.fft_size = int(fft_size)

    @property
    @abstractmethod
    def payload_bits(self):
        """`int` : Feedback payload of one report (one user) [bit]"""

    @property
    def history_length(self):
        """`int` : Past reports the path takes (1: the current one only);
        a path with more takes ``[..., history_length, num_bs_ant,
        fft_size]``, oldest first, and the link gives it that many"""
        return 1

    @abstractmethod
    def encode(self, h):
        """UE side: ``[..., num_bs_ant, fft_size]`` complex ->
        ``[..., payload_bits]`` bits (`tf.float`, values 0/1)"""

    @abstractmethod
    def decode(self, bits):
        """BS side: ``[..., payload_bits]`` bits ->
        ``[..., num_bs_ant, fft_size]`` complex channel estimates"""

    def check_input(self, h):
        """Validate a channel tensor (dtype, trailing shape, NaN/Inf)

        Inside a graph, NaN/Inf raise when the returned tensor is computed.
        """
        return check_channel_tensor("h", h, last_dims=(self.num_bs_ant,
                                                       self.fft_size))

    def _prepare(self, h):
        return tf.cast(self.check_input(h), self.cdtype)

    def call(self, h):
        h = self._prepare(h)
        return self.decode(self.encode(h))

    def __repr__(self):
        return (f"{type(self).__name__}(num_bs_ant={self.num_bs_ant}, "
                f"fft_size={self.fft_size}, payload_bits={self.payload_bits})")


class PerfectCSI(CSIFeedback):
    r"""The BS knows the measured channel exactly

    The nominal payload is the channel sent as 32-bit floats
    (``64 * num_bs_ant * fft_size`` bits); :meth:`encode`/:meth:`decode`
    really carry the float32 bit patterns, so the round trip is exact.
    ``call`` skips the bit pipe.

    Parameters
    ----------
    num_bs_ant : `int`
        BS antennas

    fft_size : `int`
        Subcarriers

    precision : `None` (default) | "single" | "double"
        Precision of outputs

    Input
    -----
    h : [..., num_bs_ant, fft_size], `tf.complex`
        Measured channels

    Output
    ------
    h_hat : [..., num_bs_ant, fft_size], `tf.complex`
        ``h``
    """

    @property
    def payload_bits(self):
        return 64 * self.num_bs_ant * self.fft_size

    def encode(self, h):
        h = self._prepare(h)
        # [..., num_bs_ant, fft_size, 2]
        x = tf.stack([tf.math.real(h), tf.math.imag(h)], axis=-1)
        x = tf.cast(x, tf.float32)
        # [..., num_bs_ant, fft_size, 2]
        words = tf.bitcast(x, tf.int32)
        # [..., num_bs_ant, fft_size, 2, 32]
        bits = int2bin_tf(words, 32)
        # [..., payload_bits]
        bits = tf.reshape(bits, tf.concat([tf.shape(h)[:-2], [-1]], 0))
        return tf.cast(bits, self.rdtype)

    def decode(self, bits):
        bits = tf.cast(bits, tf.int32)
        shape = tf.concat([tf.shape(bits)[:-1],
                           [self.num_bs_ant, self.fft_size, 2, 32]], 0)
        # [..., num_bs_ant, fft_size, 2, 32]
        bits = tf.reshape(bits, shape)
        # [..., num_bs_ant, fft_size, 2]
        x = tf.bitcast(bin2int_tf(bits), tf.float32)
        x = tf.cast(x, self.rdtype)
        return tf.complex(x[..., 0], x[..., 1])

    def call(self, h):
        return self._prepare(h)


class QuantizedCSI(CSIFeedback):
    # pylint: disable=line-too-long
    r"""Scalar-quantised angular-delay CSI under a bit budget

    The UE takes its channel to the angular-delay domain, keeps
    ``num_taps`` delay taps (``num_bs_ant x num_taps`` complex
    coefficients), sends one scale per report (the largest absolute real or
    imaginary part, as a ``scale_bits``-bit float: 16 = IEEE half precision)
    and quantises every real and imaginary part uniformly (mid-rise) on
    ``[-scale, scale]`` with

    ``b = floor((bit_budget - scale_bits) / (2 * num_bs_ant * num_taps))``

    bits. The payload is ``scale_bits + 2 * num_bs_ant * num_taps * b <=
    bit_budget`` bits. The BS dequantises and goes back to the
    spatial-frequency domain. Truncation to ``num_taps`` taps is part of the
    distortion.

    Parameters
    ----------
    num_bs_ant : `int`
        BS antennas

    fft_size : `int`
        Subcarriers

    bit_budget : `int`
        Maximum payload per report [bit]; must leave at least one bit per
        coefficient

    num_taps : `int`, (default 32)
        Delay taps kept (``<= fft_size``)

    scale_bits : 16 (default) | 32
        Bits of the per-report scale (half or single precision float)

    precision : `None` (default) | "single" | "double"
        Precision of internal computations and outputs

    Input
    -----
    h : [..., num_bs_ant, fft_size], `tf.complex`
        Measured channels

    Output
    ------
    h_hat : [..., num_bs_ant, fft_size], `tf.complex`
        Channels reconstructed at the BS
    """

    def __init__(self, num_bs_ant, fft_size, bit_budget, num_taps=32,
                 scale_bits=16, precision=None):
        super().__init__(num_bs_ant, fft_size, precision=precision)
        check_positive("bit_budget", bit_budget, integer=True)
        check_positive("num_taps", num_taps, integer=True)
        if num_taps > fft_size:
            raise ValueError(f"`num_taps`={num_taps} must be <= fft_size="
                             f"{fft_size}")
        if scale_bits not in (16, 32):
            raise ValueError(f"`scale_bits`={scale_bits!r} is not valid; "
                             "allowed: 16, 32")
        self.num_taps = int(num_taps)
        self.scale_bits = int(scale_bits)
        num_coeffs = 2 * self.num_bs_ant * self.num_taps
        self.bits_per_coefficient = (bit_budget - self.scale_bits) // num_coeffs
        if self.bits_per_coefficient < 1:
            raise ValueError(
                f"`bit_budget`={bit_budget} is too small: {num_coeffs} real "
                f"coefficients ({self.num_bs_ant} antennas x {self.num_taps} "
                f"taps x 2) need at least {num_coeffs + self.scale_bits} bits "
                f"(1 bit each + {self.scale_bits} for the scale)")
        self.bit_budget = int(bit_budget)

    @property
    def payload_bits(self):
        return (self.scale_bits + 2 * self.num_bs_ant * self.num_taps
                * self.bits_per_coefficient)

    def _float_type(self):
        return (tf.float16, tf.int16) if self.scale_bits == 16 else \
            (tf.float32, tf.int32)

    def encode(self, h):
        h = self._prepare(h)
        # [..., num_bs_ant, num_taps]
        a = spatial_frequency_to_angular_delay(h, self.num_taps,
                                               precision=self.precision)
        # [..., num_bs_ant, num_taps, 2]
        x = tf.stack([tf.math.real(a), tf.math.imag(a)], axis=-1)
        batch_shape = tf.shape(x)[:-3]
        # [..., num_coeffs]
        x = tf.reshape(x, tf.concat([batch_shape, [-1]], 0))
        ftype, itype = self._float_type()
        # Scale rounded up to the transmitted float format: [..., 1]
        scale = tf.reduce_max(tf.abs(x), axis=-1, keepdims=True)
        # (inflated by twice the format's relative rounding error so the
        # transmitted scale is never below the true one)
        eps = 2.0 ** (-9 if self.scale_bits == 16 else -22)
        scale_q = tf.cast(scale * (1.0 + eps), ftype)
        scale = tf.cast(scale_q, self.rdtype)
        levels = 2 ** self.bits_per_coefficient
        step = tf.math.divide_no_nan(2.0 * scale, tf.cast(levels, self.rdtype))
        q = tf.math.floor(tf.math.divide_no_nan(x + scale, step))
        q = tf.cast(tf.clip_by_value(q, 0, levels - 1), tf.int32)
        # [..., num_coeffs * bits_per_coefficient]
        coeff_bits = tf.reshape(int2bin_tf(q, self.bits_per_coefficient),
                                tf.concat([batch_shape, [-1]], 0))
        # [..., scale_bits]
        word = tf.cast(tf.bitcast(scale_q, itype), tf.int32)
        scale_bits = tf.math.floormod(int2bin_tf(word, self.scale_bits), 2)
        scale_bits = tf.reshape(scale_bits, tf.concat([batch_shape, [-1]], 0))
        # [..., payload_bits]
        bits = tf.concat([scale_bits, coeff_bits], axis=-1)
        return tf.cast(bits, self.rdtype)

    def decode(self, bits):
        bits = tf.cast(bits, tf.int32)
        batch_shape = tf.shape(bits)[:-1]
        ftype, itype = self._float_type()
        word = bin2int_tf(bits[..., :self.scale_bits])
        if self.scale_bits == 16:
            # Two's complement of the 16-bit pattern
            word = tf.where(word >= 2 ** 15, word - 2 ** 16, word)
        # [..., 1]
        scale = tf.cast(tf.bitcast(tf.cast(word, itype), ftype),
                        self.rdtype)[..., tf.newaxis]
        # [..., num_coeffs, bits_per_coefficient]
        coeff_bits = tf.reshape(
            bits[..., self.scale_bits:],
            tf.concat([batch_shape, [-1, self.bits_per_coefficient]], 0))
        q = tf.cast(bin2int_tf(coeff_bits), self.rdtype)
        levels = 2 ** self.bits_per_coefficient
        step = 2.0 * scale / levels
        x = -scale + (q + 0.5) * step
        # [..., num_bs_ant, num_taps, 2]
        x = tf.reshape(x, tf.concat([batch_shape,
                                     [self.num_bs_ant, self.num_taps, 2]], 0))
        a = tf.complex(x[..., 0], x[..., 1])
        # [..., num_bs_ant, fft_size]
        return angular_delay_to_spatial_frequency(a, self.fft_size,
                                                  precision=self.precision)


_REGISTRY = {}


def register_csi_feedback(name, factory):
    """Register a CSI path under ``name`` for :func:`get_csi_feedback`

    Input
    -----
    name : `str`
        Name used in specs, e.g. ``"quantized"``

    factory : `callable`
        ``factory(num_bs_ant, fft_size, precision=..., **params) ->
        CSIFeedback``
    """
    if name in _REGISTRY:
        raise ValueError(f"CSI feedback {name!r} is already registered")
    _REGISTRY[name] = factory


def list_csi_feedback():
    """`list` of `str` : Registered CSI path names"""
    _ensure_builtin()
    return sorted(_REGISTRY)


def get_csi_feedback(spec, num_bs_ant, fft_size, precision=None):
    # pylint: disable=line-too-long
    """Build a CSI path from a spec

    Input
    -----
    spec : `str` | `dict` | :class:`CSIFeedback`
        A registered name (``"perfect"``, ``"quantized"``, ``"type1"``, ...),
        a dict ``{"name": ..., **params}`` (e.g. ``{"name": "quantized",
        "bit_budget": 2048}``), or an instance (returned after checking its
        dimensions)

    num_bs_ant : `int`
        BS antennas

    fft_size : `int`
        Subcarriers

    precision : `None` (default) | "single" | "double"
        Precision of the CSI path

    Output
    ------
    csi : :class:`CSIFeedback`
    """
    if isinstance(spec, CSIFeedback):
        if (spec.num_bs_ant, spec.fft_size) != (num_bs_ant, fft_size):
            raise ValueError(
                f"CSI path {spec!r} is built for ({spec.num_bs_ant}, "
                f"{spec.fft_size}) but the link needs ({num_bs_ant}, "
                f"{fft_size}) (num_bs_ant, fft_size)")
        return spec
    _ensure_builtin()
    name, params = split_spec("CSI feedback (or a CSIFeedback)", spec)
    if name not in _REGISTRY:
        raise ValueError(f"unknown CSI feedback {name!r}; valid names: "
                         + ", ".join(sorted(_REGISTRY)))
    try:
        return _REGISTRY[name](num_bs_ant, fft_size, precision=precision,
                               **params)
    except TypeError as e:
        raise TypeError(f"bad parameters {params} for CSI feedback "
                        f"{name!r}: {e}") from e


def _ensure_builtin():
    # Importing the modules registers the built-in CSI paths
    # pylint: disable=import-outside-toplevel,unused-import,cyclic-import
    from lasco_sionna.csi import codebook, etype2, learned  # noqa: F401
    from lasco_sionna.collab import csi_path  # noqa: F401
    import lasco_sionna.prediction.csi_path  # noqa: F401


register_csi_feedback("perfect", PerfectCSI)
register_csi_feedback("quantized", QuantizedCSI)
