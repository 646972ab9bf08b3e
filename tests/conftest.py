"""Shared pytest configuration

The test process imports TensorFlow (via Sionna) and never imports Mitsuba or
Sionna RT: ray tracing runs in lasco_sionna's worker subprocess, so the suite
is immune to the TensorFlow/Dr.Jit import-order crash.
"""

import os
import sys

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("LASCO_SIONNA_CACHE",
                      os.path.join(os.path.dirname(__file__), "..", ".cache",
                                   "test-datasets"))


@pytest.fixture(autouse=True)
def _no_mitsuba_in_test_process():
    """Fail any test that imports Mitsuba/Dr.Jit into the TF test process"""
    yield
    leaked = [m for m in ("mitsuba", "drjit", "sionna.rt") if m in sys.modules]
    assert not leaked, (f"{leaked} imported into the test process: ray tracing "
                        "must go through the RT worker")


@pytest.fixture
def seed():
    """Seed Sionna's generators for one test"""
    import sionna.phy  # pylint: disable=import-outside-toplevel
    sionna.phy.config.seed = 1234
    return 1234


@pytest.fixture
def h5_arrays():
    """Reader of every dataset in an HDF5 file -> {path: np.ndarray}"""
    import h5py  # noqa: PLC0415

    def read(path):
        out = {}
        with h5py.File(path) as f:
            f.visititems(lambda n, o: out.update({n: o[()]})
                         if isinstance(o, h5py.Dataset) else None)
        return out
    return read


@pytest.fixture
def sims_script():
    """Loader of a ``sims/`` script as a module: ``sims_script("pretrain")``"""
    import importlib.util  # noqa: PLC0415
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

    def load(name):
        spec = importlib.util.spec_from_file_location(
            name, os.path.join(root, "sims", f"{name}.py"))
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module
    return load
