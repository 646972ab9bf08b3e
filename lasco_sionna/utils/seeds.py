#
# SPDX-License-Identifier: Apache-2.0
#
"""Derivation of sub-seeds from a seed and keys (pure Python: no Sionna, no TensorFlow)

New code derives every sub-seed with :func:`derive_seed`. The derivations
below predate it and stay as they are, because their values decide cached
datasets (whose cache key does not cover the derivation) or shipped weights
and results; changing them would change those silently:

* dataset chunks: ``channels.dataset._chunk_seed`` (``SeedSequence([seed,
  chunk])``); per-chunk draws of the 3GPP environments
  (``default_rng(seed).integers(2**31)`` in ``channels.stochastic``);
* ray-traced UE drops and velocities (``seed * 7919 + attempt * 31 + site``
  and ``default_rng([seed, 0xD0, site])`` in ``channels.raytraced``, ``(seed *
  9973 + attempt) % 2**31`` in ``channels.rt_worker``);
* splits: ``default_rng([seed, 0x5EED])`` in ``channels.splits``;
* pretraining: source ``i`` of a config has dataset seed ``seed + i``
  (``models.source_datasets``), the batch of step ``s`` is drawn by
  ``default_rng([seed, s])`` (``sims/pretrain.py``);
* ``sims/train_predictor.py`` (``seed + i``, ``seed + 100``, ``seed + 200 +
  i``: the shipped GRU) and ``sims/bench_prediction.py`` (``seed + 1``,
  ``seed + 2``: the committed results).
"""

import hashlib
import numbers

#: Derived seeds are integers in ``[0, SEED_MODULUS)``, i.e. at most
#: ``2**31 - 2``: valid for NumPy, TensorFlow (int32) and Sionna alike
SEED_MODULUS = 2 ** 31 - 1


def derive_seed(seed, *keys):
    # pylint: disable=line-too-long
    r"""Sub-seed of ``seed`` for the draw that ``keys`` names

    The seed and the keys are written in decimal (integers) or as they are
    (strings), joined by ``":"``, hashed with SHA-256, and the first 32 bits
    of the digest (8 hex digits, big-endian) are taken modulo
    :data:`SEED_MODULUS`:

    .. code-block:: python

        int(sha256("seed:key1:key2".encode()).hexdigest()[:8], 16) % (2**31 - 1)

    Different keys give (practically) independent seeds, whatever their
    order of use, the executor or the platform: use one key per purpose
    (``derive_seed(seed, "noise")``) and one per index
    (``derive_seed(seed, "chunk", i)``) instead of arithmetic such as
    ``seed + 1000 * i``, whose streams overlap between neighbouring seeds.
    The sweep's point seeds are ``derive_seed(sweep_seed, point_id)``.

    Integer keys and their decimal strings are the same key
    (``derive_seed(0, 1) == derive_seed(0, "1")``).

    Input
    -----
    seed : `int`
        Parent seed, ``>= 0``

    keys : `int` | `str`
        What the sub-seed is for; strings must not contain ``":"``
        (the separator)

    Output
    ------
    seed : `int`
        Derived seed in ``[0, 2**31 - 2]``
    """
    parts = []
    for name, value in (("seed", seed),) + tuple(
            (f"keys[{i}]", k) for i, k in enumerate(keys)):
        if isinstance(value, numbers.Integral) and \
                not isinstance(value, bool):
            if name == "seed" and value < 0:
                raise ValueError(f"`seed` must be >= 0, got {value!r}")
            parts.append(str(int(value)))
        elif isinstance(value, str) and name != "seed":
            if ":" in value:
                raise ValueError(f"`{name}`={value!r} must not contain ':' "
                                 "(the separator of the hashed text)")
            parts.append(value)
        else:
            kinds = "an integer" if name == "seed" else \
                "an integer or a string"
            raise TypeError(f"`{name}` must be {kinds}, got {value!r}")
    digest = hashlib.sha256(":".join(parts).encode()).hexdigest()
    return int(digest[:8], 16) % SEED_MODULUS
