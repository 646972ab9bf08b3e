#
# SPDX-License-Identifier: Apache-2.0
#
"""Radio configuration shared by all environments: OFDM numerology and BS array"""

from dataclasses import asdict, dataclass

import numpy as np

from lasco_sionna.utils.validation import check_choice, check_positive


@dataclass(frozen=True)
class Numerology:
    r"""OFDM numerology of a link and of the channel data generated for it

    Parameters
    ----------
    carrier_frequency : `float`, (default 3.5e9)
        Carrier frequency [Hz]

    subcarrier_spacing : `float`, (default 30e3)
        Subcarrier spacing [Hz]

    fft_size : `int`, (default 256)
        Number of subcarriers. The CSI image of one user is
        ``[num_bs_ant, fft_size]`` in the spatial-frequency domain.

    num_ofdm_symbols : `int`, (default 14)
        OFDM symbols per slot

    cyclic_prefix_length : `int`, (default 18)
        Cyclic prefix length [samples]
    """

    carrier_frequency: float = 3.5e9
    subcarrier_spacing: float = 30e3
    fft_size: int = 256
    num_ofdm_symbols: int = 14
    cyclic_prefix_length: int = 18

    def __post_init__(self):
        check_positive("carrier_frequency", self.carrier_frequency)
        check_positive("subcarrier_spacing", self.subcarrier_spacing)
        check_positive("fft_size", self.fft_size, integer=True)
        check_positive("num_ofdm_symbols", self.num_ofdm_symbols, integer=True)
        check_positive("cyclic_prefix_length", self.cyclic_prefix_length,
                       integer=True, allow_zero=True)

    @property
    def frequencies(self):
        """[fft_size], `np.float64` : Baseband subcarrier frequencies [Hz],
        identical to :func:`sionna.phy.channel.subcarrier_frequencies`"""
        n = self.fft_size
        start = -(n // 2) if n % 2 == 0 else -((n - 1) // 2)
        return (np.arange(n) + start) * self.subcarrier_spacing

    @property
    def bandwidth(self):
        """`float` : Occupied bandwidth [Hz]"""
        return self.fft_size * self.subcarrier_spacing

    @property
    def slot_duration(self):
        """`float` : Duration of one slot, cyclic prefixes included [s]"""
        symbol = (self.fft_size + self.cyclic_prefix_length) / (
            self.fft_size * self.subcarrier_spacing)
        return self.num_ofdm_symbols * symbol

    def to_dict(self):
        """`dict` : JSON-serialisable representation"""
        return asdict(self)


@dataclass(frozen=True)
class BSArray:
    r"""Base-station antenna array (downlink transmitter)

    The array has ``num_rows x num_cols`` elements per polarisation, i.e.,
    ``num_ant = num_rows * num_cols * (2 if dual-polarised else 1)`` ports.
    Half-wavelength spacing. The default is a 32-element horizontal ULA.

    Parameters
    ----------
    num_rows : `int`, (default 1)
        Rows of the array

    num_cols : `int`, (default 32)
        Columns of the array

    polarization : "single" (default) | "dual"
        Single (vertical) or dual (cross, +/-45 deg) polarisation

    pattern : "38.901" (default) | "iso"
        Element radiation pattern
    """

    num_rows: int = 1
    num_cols: int = 32
    polarization: str = "single"
    pattern: str = "38.901"

    def __post_init__(self):
        check_positive("num_rows", self.num_rows, integer=True)
        check_positive("num_cols", self.num_cols, integer=True)
        check_choice("polarization", self.polarization, ("single", "dual"))
        check_choice("pattern", self.pattern, ("38.901", "iso"))

    @property
    def num_ant(self):
        """`int` : Number of antenna ports"""
        return self.num_rows * self.num_cols * (
            2 if self.polarization == "dual" else 1)

    def to_dict(self):
        """`dict` : JSON-serialisable representation"""
        return asdict(self)
