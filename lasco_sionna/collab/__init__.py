"""Large/small model collaboration: LASCO and E-LASCO"""
from lasco_sionna.collab.methods import (ADAPTATION_METHODS, METHOD_ALIASES,
                                         AdaptationMethod,
                                         get_adaptation_method, method_name)
from lasco_sionna.collab.combiner import (COEFFICIENT_MODES,
                                          CollaborationCombiner,
                                          CollaborativeDecoder)
from lasco_sionna.collab.adapt import AdaptationResult, adapt, cached_outputs
from lasco_sionna.collab.serving import MultiEnvironmentDecoder
from lasco_sionna.collab.finetune import FineTuneResult, finetune
from lasco_sionna.collab.linear import (SHRINKAGE_GRID, LinearAdaptationResult,
                                        adapt_linear)
