"""CSI: representations, metrics and the pluggable feedback path"""
from lasco_sionna.csi.representation import (
    spatial_frequency_to_angular_delay, angular_delay_to_spatial_frequency,
    complex_to_real_image, real_image_to_complex, normalize_csi, csi_image,
    csi_from_image, truncation_nmse)
from lasco_sionna.csi.metrics import nmse, nmse_db, cosine_similarity, sgcs
from lasco_sionna.csi.image_stats import (image_mse, image_nmse_db,
                                          image_second_moment)
from lasco_sionna.csi.feedback import (CSIContext, CSIFeedback, PerfectCSI,
                                       QuantizedCSI, get_csi_feedback,
                                       list_csi_feedback,
                                       register_csi_feedback)
from lasco_sionna.csi.codebook import TypeICodebookCSI
from lasco_sionna.csi.quantizer import (NormQuantizer, UniformQuantizer,
                                        gaussian_optimal_clip)
from lasco_sionna.csi.learned import LearnedCSIFeedback
from lasco_sionna.csi.rate_distortion import (rate_distortion_nmse_db,
                                              reverse_water_filling,
                                              with_truncation_floor)
from lasco_sionna.csi.etype2 import ETypeIICodebookCSI
