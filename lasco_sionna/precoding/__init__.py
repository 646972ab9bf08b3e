"""Multi-user precoders in Sionna's ``PrecodedChannel`` style: MRT, ZF, RZF, WMMSE, max-min SINR"""

from lasco_sionna.precoding.linear import (LinearPrecodedChannel,
                                           MRTPrecodedChannel,
                                           RegularizedZFPrecodedChannel,
                                           ZFPrecodedChannel)
from lasco_sionna.precoding.maxmin import (MaxMinPrecodedChannel,
                                           maxmin_precoding_matrix)
from lasco_sionna.precoding.registry import get_precoder, register_precoder
from lasco_sionna.precoding.sinr import downlink_sinr
from lasco_sionna.precoding.wmmse import (WMMSEPrecodedChannel,
                                          wmmse_precoding_matrix)

__all__ = ["LinearPrecodedChannel", "MRTPrecodedChannel",
           "RegularizedZFPrecodedChannel", "ZFPrecodedChannel",
           "WMMSEPrecodedChannel", "MaxMinPrecodedChannel", "wmmse_precoding_matrix",
           "maxmin_precoding_matrix", "downlink_sinr", "get_precoder",
           "register_precoder"]
