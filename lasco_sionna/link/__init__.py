"""Link-level systems: a downlink MU-MIMO OFDM link with pluggable CSI path and precoder"""

from lasco_sionna.link.system import MUMIMOOFDMLink, LinkConfig
from lasco_sionna.link.evaluate import evaluate_link

__all__ = ["MUMIMOOFDMLink", "LinkConfig", "evaluate_link"]
