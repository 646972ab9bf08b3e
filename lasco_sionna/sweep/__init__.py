"""Batch simulations: YAML sweeps, atomic per-point results, resume, local and Ray executors, plots

This package does not import Sionna or TensorFlow; evaluators (e.g.
:mod:`lasco_sionna.link.point`) are loaded by ``"module:function"``.
"""
from lasco_sionna.sweep.config import (SweepConfig, expand, load_config,
                                       parse_config, point_id)
from lasco_sionna.sweep.store import ResultStore
from lasco_sionna.utils.executors import (LocalExecutor, RayExecutor,
                                          get_executor)
from lasco_sionna.sweep.cli import run_sweep
