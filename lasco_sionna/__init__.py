#
# SPDX-License-Identifier: Apache-2.0
#
"""lasco-sionna: large/small AI model collaboration in Sionna link-level simulations.

Import safety
-------------
Dr.Jit/Mitsuba (Sionna RT) and TensorFlow clash when TensorFlow is imported
first (abort at exit or segfault in the path solver). This package therefore
never imports ``mitsuba``, ``drjit`` or ``sionna.rt`` in the calling process:
ray tracing always runs in a dedicated worker process that imports Sionna RT
before anything else (:mod:`lasco_sionna.channels.rt_worker`). Any import order
of ``tensorflow``, ``sionna`` and ``lasco_sionna`` is safe.

Subpackages are imported lazily so that ``import lasco_sionna`` is cheap.
"""

import importlib

__version__ = "0.1.0"

_SUBPACKAGES = ("channels", "csi", "precoding", "link", "sweep")


def __getattr__(name):
    if name in _SUBPACKAGES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_SUBPACKAGES))
