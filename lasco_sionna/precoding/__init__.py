"""Linear multi-user precoders in Sionna's ``PrecodedChannel`` style"""

from lasco_sionna.precoding.linear import (LinearPrecodedChannel,
                                           RZFPrecodedChannel,
                                           ZFPrecodedChannel,
                                           get_precoder, register_precoder)

__all__ = ["LinearPrecodedChannel", "RZFPrecodedChannel",
           "ZFPrecodedChannel", "get_precoder", "register_precoder"]
