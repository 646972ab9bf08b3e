#
# SPDX-License-Identifier: Apache-2.0
#
"""The pluggable CSI path: UE encoder -> feedback payload in bits -> BS reconstruction"""

import importlib
from abc import abstractmethod
from dataclasses import dataclass

import tensorflow as tf
from sionna.phy import Block
from sionna.phy.fec.utils import bin2int_tf, int2bin_tf
from sionna.phy.utils import flatten_last_dims, split_dim

from lasco_sionna.csi.quantizer import UniformQuantizer, gaussian_optimal_clip
from lasco_sionna.csi.representation import (
    angular_delay_to_spatial_frequency, spatial_frequency_to_angular_delay)
from lasco_sionna.utils.validation import (check_channel_tensor, check_choice,
                                           check_instance, check_positive,
                                           split_spec)


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

    Every ``[num_bs_ant, fft_size]`` matrix of the input is one report:
    with multi-antenna UEs (channels ``[..., num_ue_ant, num_bs_ant,
    fft_size]``, e.g. :meth:`~lasco_sionna.channels.ChannelDataset.as_matrix`
    of an environment with ``num_ue_ant > 1``), the channel of each UE
    antenna is fed back as its own report of :attr:`payload_bits` bits.
    Inputs of any complex dtype (complex64 or complex128) are cast to the
    path's precision: outputs are complex64 unless ``precision="double"``.

    Parameters
    ----------
    num_bs_ant : `int` | 0-d integer `tf.Tensor`
        BS antennas ``Nt`` (e.g. Sionna's ``AntennaArray.num_ant``)

    fft_size : `int` | 0-d integer `tf.Tensor`
        Subcarriers ``F``

    precision : `None` (default) | "single" | "double"
        Precision of internal computations and outputs

    Input
    -----
    h : [..., num_bs_ant, fft_size], `tf.complex`
        Channels measured by the UEs (complex64 or complex128)

    Output
    ------
    h_hat : [..., num_bs_ant, fft_size], `tf.complex`
        Channels reconstructed at the BS
    """

    def __init__(self, num_bs_ant, fft_size, precision=None):
        super().__init__(precision=precision)
        # Integer tensors (Sionna's ``AntennaArray.num_ant``) are accepted
        self.num_bs_ant = int(check_positive("num_bs_ant", num_bs_ant,
                                             integer=True))
        self.fft_size = int(check_positive("fft_size", fft_size,
                                           integer=True))

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
        bits = flatten_last_dims(bits, 4)
        return tf.cast(bits, self.rdtype)

    def decode(self, bits):
        bits = tf.cast(bits, tf.int32)
        # [..., num_bs_ant, fft_size, 2, 32]
        bits = split_dim(bits, [self.num_bs_ant, self.fft_size, 2, 32],
                         len(bits.shape) - 1)
        # [..., num_bs_ant, fft_size, 2]
        x = tf.bitcast(bin2int_tf(bits), tf.float32)
        x = tf.cast(x, self.rdtype)
        return tf.complex(x[..., 0], x[..., 1])

    def call(self, h):
        return self._prepare(h)


class QuantizedCSI(CSIFeedback):
    # pylint: disable=line-too-long
    r"""Scalar-quantised angular-delay CSI under a bit budget

    The UE takes its channel to the angular-delay domain and keeps
    ``num_taps`` delay taps (``num_bs_ant x num_taps`` complex coefficients,
    ``n = 2 * num_bs_ant * num_taps`` real values :math:`x_i`). Every real
    value is quantised with ``b`` bits by one
    :class:`~lasco_sionna.csi.UniformQuantizer` whose range is scaled per
    report: the reconstruction is :math:`\hat{x}_i = s\,\ell(q_i)` with
    :math:`\ell` the levels of a uniform mid-rise quantiser on
    ``[-c_b, c_b]`` (:math:`c_b` = :func:`~lasco_sionna.csi.gaussian_optimal_clip`,
    the MSE-optimal range for a unit-variance Gaussian) and :math:`s` a scale
    sent as a ``scale_bits``-bit float (16 = IEEE half precision). The UE
    starts from the RMS of the report, :math:`s = \sqrt{\sum_i x_i^2 / n}`,
    and runs ``num_iterations`` Lloyd steps: nearest levels
    :math:`q_i` for the scale, then the least-squares scale for the levels,
    :math:`s = \sum_i x_i \ell(q_i) / \sum_i \ell(q_i)^2`. Neither step
    increases the error, and the final least-squares scale makes
    :math:`\|x - \hat{x}\|^2 = \|x\|^2 - (\sum_i x_i\ell(q_i))^2 / \sum_i
    \ell(q_i)^2 < \|x\|^2`: the path is never worse than no feedback
    (up to the rounding of :math:`s`), at every bit width. On i.i.d.
    Gaussian coefficients it is the optimal uniform quantiser (1 bit: the
    Lloyd--Max quantiser, NMSE :math:`1 - 2/\pi`, -4.4 dB).

    ``b = min(16, floor((bit_budget - scale_bits) / (2 * num_bs_ant * num_taps)))``

    and the payload is ``scale_bits + 2 * num_bs_ant * num_taps * b <=
    bit_budget`` bits, e.g. 4,112 bits for 2 bits per value at 32 antennas
    and 32 taps (``{"name": "quantized", "bit_budget": 4112}``). The BS
    dequantises and goes back to the spatial-frequency domain. Truncation to
    ``num_taps`` taps is part of the distortion. A half-precision scale
    covers report RMS values of about 1e-4 to 6e4 (the environments'
    normalised channels); use ``scale_bits=32`` for channels with path loss.

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

    num_iterations : `int`, (default 4)
        Lloyd steps (levels, then least-squares scale) of the UE

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
                 scale_bits=16, num_iterations=4, precision=None):
        super().__init__(num_bs_ant, fft_size, precision=precision)
        check_positive("bit_budget", bit_budget, integer=True)
        check_positive("num_taps", num_taps, integer=True)
        check_positive("num_iterations", num_iterations, integer=True)
        if num_taps > self.fft_size:
            raise ValueError(f"`num_taps`={num_taps} must be <= fft_size="
                             f"{self.fft_size}")
        check_choice("scale_bits", scale_bits, (16, 32))
        self.num_taps = int(num_taps)
        self.scale_bits = int(scale_bits)
        self.num_iterations = int(num_iterations)
        num_coeffs = 2 * self.num_bs_ant * self.num_taps
        self.bits_per_coefficient = (bit_budget - self.scale_bits) // num_coeffs
        if self.bits_per_coefficient < 1:
            raise ValueError(
                f"`bit_budget`={bit_budget} is too small: {num_coeffs} real "
                f"coefficients ({self.num_bs_ant} antennas x {self.num_taps} "
                f"taps x 2) need at least {num_coeffs + self.scale_bits} bits "
                f"(1 bit each + {self.scale_bits} for the scale)")
        # UniformQuantizer's limit (a float32 channel has ~24 bits)
        self.bits_per_coefficient = min(self.bits_per_coefficient, 16)
        self.bit_budget = int(bit_budget)
        b = self.bits_per_coefficient
        self._quantizer = UniformQuantizer(b, clip=gaussian_optimal_clip(b),
                                           dtype="float32")

    @property
    def payload_bits(self):
        return (self.scale_bits + 2 * self.num_bs_ant * self.num_taps
                * self.bits_per_coefficient)

    def _float_type(self):
        return (tf.float16, tf.int16) if self.scale_bits == 16 else \
            (tf.float32, tf.int32)

    def _levels(self, x, scale):
        """Quantiser levels of ``x / scale`` (`self.rdtype`)"""
        q = self._quantizer
        return tf.cast(q.dequantize(q.indices(
            tf.math.divide_no_nan(x, scale))), self.rdtype)

    def encode(self, h):
        h = self._prepare(h)
        # [..., num_bs_ant, num_taps]
        a = spatial_frequency_to_angular_delay(h, self.num_taps,
                                               precision=self.precision)
        # [..., num_bs_ant, num_taps, 2]
        x = tf.stack([tf.math.real(a), tf.math.imag(a)], axis=-1)
        # [..., num_coeffs]
        x = flatten_last_dims(x, 3)
        # Lloyd steps from the RMS: [..., 1]
        scale = tf.sqrt(tf.reduce_mean(tf.square(x), axis=-1, keepdims=True))
        for _ in range(self.num_iterations):
            index_scale = scale
            lev = self._levels(x, index_scale)
            scale = tf.math.divide_no_nan(
                tf.reduce_sum(x * lev, axis=-1, keepdims=True),
                tf.reduce_sum(lev * lev, axis=-1, keepdims=True))
        # [..., num_coeffs * bits_per_coefficient]
        coeff_bits = tf.cast(self._quantizer.to_bits(
            tf.math.divide_no_nan(x, index_scale)), tf.int32)
        ftype, itype = self._float_type()
        # [..., 1]
        scale_q = tf.cast(scale, ftype)
        word = tf.cast(tf.bitcast(scale_q, itype), tf.int32)
        # [..., 1, scale_bits]
        scale_bits = tf.math.floormod(int2bin_tf(word, self.scale_bits), 2)
        # [..., scale_bits]
        scale_bits = flatten_last_dims(scale_bits, 2)
        # [..., payload_bits]
        bits = tf.concat([scale_bits, coeff_bits], axis=-1)
        return tf.cast(bits, self.rdtype)

    def decode(self, bits):
        bits = tf.cast(bits, tf.int32)
        ftype, itype = self._float_type()
        word = bin2int_tf(bits[..., :self.scale_bits])
        if self.scale_bits == 16:
            # Two's complement of the 16-bit pattern
            word = tf.where(word >= 2 ** 15, word - 2 ** 16, word)
        # [..., 1]
        scale = tf.cast(tf.bitcast(tf.cast(word, itype), ftype),
                        self.rdtype)[..., tf.newaxis]
        # [..., num_coeffs]
        lev = tf.cast(self._quantizer.from_bits(bits[..., self.scale_bits:]),
                      self.rdtype)
        x = scale * lev
        # [..., num_bs_ant, num_taps, 2]
        x = split_dim(x, [self.num_bs_ant, self.num_taps, 2],
                      len(x.shape) - 1)
        a = tf.complex(x[..., 0], x[..., 1])
        # [..., num_bs_ant, fft_size]
        return angular_delay_to_spatial_frequency(a, self.fft_size,
                                                  precision=self.precision)


@dataclass(frozen=True)
class CSIContext:
    # pylint: disable=line-too-long
    r"""Where a CSI path is used: what context-aware paths adapt to

    CSI paths registered with ``uses_context=True`` (e.g. ``"adapted"``,
    which adapts a model to the environment it serves) receive it from
    :func:`get_csi_feedback`; the others ignore it. Fields are plain specs
    (names and dicts), so this module needs no environment class.

    Parameters
    ----------
    environment : `None` (default) | `str` | `dict`
        Environment the link runs on: a name or ``{"name": ..., **params}``
        (see :func:`~lasco_sionna.channels.get_environment`)

    numerology : `None` (default) | `dict`
        :class:`~lasco_sionna.channels.Numerology` fields

    bs_array : `None` (default) | `dict`
        :class:`~lasco_sionna.channels.BSArray` fields

    feedback_delay : `None` (default) | `int`
        Slots between the last report and the precoded transmission (the
        horizon of ``"predicted"`` paths)
    """

    environment: object = None
    numerology: dict = None
    bs_array: dict = None
    feedback_delay: int = None


def fill_from_context(context, **given):
    """``given`` (field name -> value) with every `None` value replaced by
    the field of ``context`` (a :class:`CSIContext` or `None`), as a
    `dict`; what a path is given explicitly wins over its context"""
    if context is None:
        return given
    return {k: getattr(context, k) if v is None else v
            for k, v in given.items()}


_REGISTRY = {}

#: CSI paths provided by higher layers, registered when their module is
#: imported: name -> module. :func:`get_csi_feedback` imports the module the
#: first time the name is asked for, so this package never imports them.
PROVIDERS = {"pretrained": "lasco_sionna.models.csi_path",
             "adapted": "lasco_sionna.collab.csi_path",
             "predicted": "lasco_sionna.prediction.csi_path"}


def register_csi_feedback(name, factory, uses_context=False):
    """Register a CSI path under ``name`` for :func:`get_csi_feedback`

    Input
    -----
    name : `str`
        Name used in specs, e.g. ``"quantized"``

    factory : `callable`
        ``factory(num_bs_ant, fft_size, precision=..., **params) ->
        CSIFeedback``; with ``uses_context``, also the keyword ``context``
        (:class:`CSIContext`)

    uses_context : `bool`, (default `False`)
        The factory takes the keyword ``context``
    """
    if name in _REGISTRY:
        raise ValueError(f"CSI feedback {name!r} is already registered")
    _REGISTRY[name] = (factory, bool(uses_context))


def list_csi_feedback():
    """`list` of `str` : Registered CSI path names, and those of
    :data:`PROVIDERS` (not imported)"""
    return sorted(set(_REGISTRY) | set(PROVIDERS))


def _lookup(name):
    """Factory and ``uses_context`` of ``name``, importing its provider"""
    if name not in _REGISTRY and name in PROVIDERS:
        importlib.import_module(PROVIDERS[name])
    if name not in _REGISTRY:
        raise ValueError(f"unknown CSI feedback {name!r}; valid names: "
                         + ", ".join(list_csi_feedback()))
    return _REGISTRY[name]


def get_csi_feedback(spec, num_bs_ant, fft_size, precision=None,
                     context=None):
    # pylint: disable=line-too-long
    """Build a CSI path from a spec

    Input
    -----
    spec : `str` | `dict` | :class:`CSIFeedback`
        A registered name (``"perfect"``, ``"quantized"``, ``"type1"``, ...),
        a dict ``{"name": ..., **params}`` (e.g. ``{"name": "quantized",
        "bit_budget": 4112}``: 2 bits per value at 32 antennas and 32 taps), or an instance (returned after checking its
        dimensions)

    num_bs_ant : `int` | 0-d integer `tf.Tensor`
        BS antennas (e.g. Sionna's ``AntennaArray.num_ant``)

    fft_size : `int` | 0-d integer `tf.Tensor`
        Subcarriers

    precision : `None` (default) | "single" | "double"
        Precision of the CSI path

    context : `None` (default) | :class:`CSIContext`
        Where the path is used; passed to context-aware paths only

    Output
    ------
    csi : :class:`CSIFeedback`
    """
    num_bs_ant = int(check_positive("num_bs_ant", num_bs_ant, integer=True))
    fft_size = int(check_positive("fft_size", fft_size, integer=True))
    if isinstance(spec, CSIFeedback):
        if (spec.num_bs_ant, spec.fft_size) != (num_bs_ant, fft_size):
            raise ValueError(
                f"CSI path {spec!r} is built for ({spec.num_bs_ant}, "
                f"{spec.fft_size}) but the link needs ({num_bs_ant}, "
                f"{fft_size}) (num_bs_ant, fft_size)")
        return spec
    if context is not None:
        check_instance("context", context, CSIContext)
    name, params = split_spec("CSI feedback (or a CSIFeedback)", spec)
    factory, uses_context = _lookup(name)
    kwargs = {**params, "context": context} if uses_context else params
    try:
        return factory(num_bs_ant, fft_size, precision=precision, **kwargs)
    except TypeError as e:
        raise TypeError(f"bad parameters {params} for CSI feedback "
                        f"{name!r}: {e}") from e


register_csi_feedback("perfect", PerfectCSI)
register_csi_feedback("quantized", QuantizedCSI)
