"""Channels: numerology, environments (3GPP stochastic and ray-traced) and cached datasets

Importing this package never imports Mitsuba, Dr.Jit or Sionna RT (ray
tracing runs in :mod:`lasco_sionna.channels.rt_worker`'s subprocess).
"""
from lasco_sionna.channels.config import BSArray, Numerology
from lasco_sionna.channels.environment import (ChannelSamples, Environment,
                                               get_environment,
                                               list_environments,
                                               normalize_per_sample,
                                               register_environment)
from lasco_sionna.channels.stochastic import (CDLEnvironment,
                                              StochasticEnvironment,
                                              SystemLevelEnvironment,
                                              TDLEnvironment, max_doppler)
from lasco_sionna.channels.dataset import (ChannelDataset, DatasetChannel,
                                           UserSampler,
                                           build_dataset, default_cache_dir)
from lasco_sionna.channels.cir import (DatasetChannelModel,
                                       EnvironmentChannelModel,
                                       as_channel_model, to_uplink)
