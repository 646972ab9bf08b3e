#
# SPDX-License-Identifier: Apache-2.0
#
"""Scoped seeding of Sionna's global random number generators"""

import contextlib

from sionna.phy import config


@contextlib.contextmanager
def sionna_seed(seed):
    """Seed Sionna's TF/NumPy/Python generators inside a ``with`` block only

    On exit the generators are restored to their previous states, so a
    seeded draw (e.g. a dataset chunk) does not disturb the random stream of
    the caller's simulation.

    Input
    -----
    seed : `int`
        Seed used inside the block
    """
    tf_rng = config.tf_rng
    tf_state = tf_rng.state.numpy().copy()
    py_state = config.py_rng.getstate()
    np_rng = config.np_rng
    old_seed = config.seed
    config.seed = seed
    try:
        yield
    finally:
        tf_rng.reset(tf_state)
        config.py_rng.setstate(py_state)
        config._np_rng = np_rng  # pylint: disable=protected-access
        config._seed = old_seed  # pylint: disable=protected-access
