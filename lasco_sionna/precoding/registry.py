#
# SPDX-License-Identifier: Apache-2.0
#
"""Precoders by name, for configurations and sweeps"""

from lasco_sionna.precoding.linear import (LinearPrecodedChannel,
                                           MRTPrecodedChannel,
                                           RegularizedZFPrecodedChannel,
                                           ZFPrecodedChannel)
from lasco_sionna.precoding.maxmin import MaxMinPrecodedChannel
from lasco_sionna.precoding.wmmse import WMMSEPrecodedChannel
from lasco_sionna.utils.validation import split_spec

_PRECODERS = {"mrt": MRTPrecodedChannel, "zf": ZFPrecodedChannel,
              "rzf": RegularizedZFPrecodedChannel,
              "wmmse": WMMSEPrecodedChannel, "maxmin": MaxMinPrecodedChannel}


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
        ``"mrt"``, ``"zf"``, ``"rzf"``, ``"wmmse"``, ``"maxmin"`` or a
        registered name, or ``{"name": ..., **params}`` with the class's
        keyword parameters, e.g. ``{"name": "rzf", "alpha": 0.1}``,
        ``{"name": "wmmse", "subband_size": 12}``; unknown parameters raise
        `TypeError`

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
