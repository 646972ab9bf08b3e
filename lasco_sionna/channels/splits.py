#
# SPDX-License-Identifier: Apache-2.0
#
"""Train/validation/test splits that keep test samples distinct from training ones

A split is only a split if the samples are distinct. Ray-traced UEs near one
another have nearly the same channel, so ray-traced datasets are split by
*location*: the plane is cut into square blocks, and every block goes as a
whole to one split, chosen by a hash of the block's coordinates and of the
scene. Every dataset of a scene therefore agrees on which places are
training, validation and test places, whatever its seed or size: a model
adapted on one dataset's training split and judged on another dataset's test
split never sees a test place. Validation and test UEs closer than ``guard``
to a training block are left out, and a UE within ``min_separation`` of an
earlier one is a duplicate and is left out of every split.

Datasets may use different fractions: a block with hash ``u`` is a training
block if ``u < f_train``, a test block if ``u >= 1 - f_test``, else a
validation block. So the training places of dataset A are never test places
of dataset B when ``f_train(A) + f_test(B) <= 1``, and B's test UEs keep the
guard distance from A's training blocks when also ``f_train(A) <=
f_train(B)``.

Drops of 3GPP system-level models (UMi/UMa/RMa) are split by drop (the UEs of
one drop share their large-scale parameters); i.i.d. draws (CDL) by sample.
"""

import hashlib

import numpy as np
from scipy.spatial import cKDTree

from lasco_sionna.utils.validation import check_choice, check_positive

SPLITS = ("train", "validation", "test")

#: Split rules: "location" (blocks), "group" (e.g. drops), "sample"
RULES = ("location", "group", "sample")


def check_fractions(fractions):
    """The 3 fractions (train, validation, test) as floats; `ValueError` unless they are non-negative and sum to 1"""
    try:
        fractions = tuple(float(f) for f in fractions)
    except (TypeError, ValueError) as e:
        raise ValueError("`splits` must be 3 numbers (train, validation, "
                         f"test), got {fractions!r}") from e
    if len(fractions) != 3 or not np.all(np.isfinite(fractions)) or \
            min(fractions) < 0 or abs(sum(fractions) - 1) > 1e-9:
        raise ValueError("`splits` must be 3 finite non-negative fractions "
                         "(train, validation, test) summing to 1, got "
                         f"{fractions}")
    return fractions


def check_location_rule(block_size, guard, min_separation):
    """Raise `ValueError` unless the parameters of the "location" rule are valid

    Input
    -----
    block_size : `float`
        Side of a location block [m] (> 0)

    guard : `float`
        Guard distance [m] (>= 0, < ``block_size / 2``)

    min_separation : `float`
        Duplicate distance [m] (>= 0)
    """
    check_positive("block_size", block_size)
    check_positive("guard", guard, allow_zero=True)
    check_positive("min_separation", min_separation, allow_zero=True)
    if guard >= block_size / 2:
        raise ValueError(f"`guard`={guard} must be < half the "
                         f"`block_size`={block_size}")


def block_splits(blocks, fractions, key):
    r"""Split of each location block: a hash of ``(key, block)`` compared with the fractions

    Input
    -----
    blocks : [num_blocks, 2], `int`
        Block coordinates ``floor(xy / block_size)``

    fractions : 3 `float`
        Train, validation and test fractions (of blocks, in expectation)

    key : `str`
        Scene key: the same key gives the same assignment

    Output
    ------
    split : [num_blocks], `np.int8`
        0 (train), 1 (validation) or 2 (test)
    """
    blocks = np.asarray(blocks, np.int64).reshape(-1, 2)
    u = np.empty(len(blocks))
    for i, (bx, by) in enumerate(blocks):
        digest = hashlib.sha256(f"{key}/{bx}/{by}".encode()).digest()
        u[i] = int.from_bytes(digest[:8], "little") / 2.0 ** 64
    bounds = np.cumsum(fractions)[:2]
    return np.searchsorted(bounds, u, side="right").astype(np.int8)


def split_samples(num_samples, fractions, rule, seed=0, positions=None,
                  groups=None, key="", block_size=50.0, guard=5.0,
                  min_separation=0.5):
    # pylint: disable=line-too-long
    r"""Assign the samples of a dataset to train/validation/test

    Input
    -----
    num_samples : `int`
        Number of samples

    fractions : 3 `float`
        Train, validation and test fractions, summing to 1

    rule : "location" | "group" | "sample"
        "location": blocks of ``block_size`` metres hashed with ``key`` (needs
        ``positions``); "group": whole groups (e.g. drops) in a seeded random
        order until each split has its share of samples (needs ``groups``);
        "sample": a seeded random permutation

    seed : `int`, (default 0)
        Seed of the "group" and "sample" rules

    positions : `None` (default) | [num_samples, 3], `float`
        UE positions [m]

    groups : `None` (default) | [num_samples], `int`
        Group of each sample

    key : `str`, (default "")
        Location key (the scene): datasets with the same key agree on blocks

    block_size : `float`, (default 50.0)
        Side of a location block [m]

    guard : `float`, (default 5.0)
        Validation and test samples closer than this to a training block are
        left out [m]

    min_separation : `float`, (default 0.5)
        A sample within this distance of an earlier sample is a duplicate
        and left out of every split [m] (rules with positions only)

    Output
    ------
    splits : `dict` of [num_split], `np.int64`
        Sample indices of ``"train"``, ``"validation"`` and ``"test"``

    excluded : [num_excluded], `np.int64`
        Samples in no split (duplicates, guard band)

    rule : `dict`
        The rule and its parameters (JSON-serialisable, stored with the data)
    """
    check_positive("num_samples", num_samples, integer=True)
    fractions = check_fractions(fractions)
    check_choice("rule", rule, RULES)
    desc = {"rule": rule, "fractions": list(fractions)}
    excluded = np.zeros([num_samples], bool)
    if rule == "location":
        if positions is None:
            raise ValueError("the 'location' split rule needs `positions`")
        positions = np.asarray(positions, np.float64)
        if positions.shape != (num_samples, 3) or \
                not np.all(np.isfinite(positions)):
            raise ValueError(f"`positions` must be {num_samples} finite "
                             f"(x, y, z) rows, got shape {positions.shape}")
        check_location_rule(block_size, guard, min_separation)
        xy = positions[:, :2]
        block = np.floor(xy / block_size).astype(np.int64)
        uniq, inverse = np.unique(block, axis=0, return_inverse=True)
        inverse = inverse.reshape(-1)
        label = block_splits(uniq, fractions, key)[inverse]
        # Guard band: a non-training sample near a training neighbour block
        offset = xy - block * block_size
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                if dx == dy == 0:
                    continue
                nb = block_splits(block + [dx, dy], fractions, key) == 0
                # Distance from the point to the neighbouring block's square
                gap_x = np.where(dx < 0, offset[:, 0], np.where(
                    dx > 0, block_size - offset[:, 0], 0.0))
                gap_y = np.where(dy < 0, offset[:, 1], np.where(
                    dy > 0, block_size - offset[:, 1], 0.0))
                near = np.hypot(gap_x, gap_y) < guard
                excluded |= (label != 0) & nb & near
        # Duplicates: within min_separation of an earlier sample
        if min_separation > 0:
            pairs = cKDTree(positions).query_pairs(min_separation,
                                                   output_type="ndarray")
            excluded[np.max(pairs, axis=1) if len(pairs) else []] = True
        desc.update(key=key, block_size=float(block_size),
                    guard=float(guard), min_separation=float(min_separation))
    elif rule == "group":
        if groups is None:
            raise ValueError("the 'group' split rule needs `groups`")
        groups = np.asarray(groups).reshape(-1)
        if groups.shape != (num_samples,):
            raise ValueError(f"`groups` must have {num_samples} entries, got "
                             f"{groups.shape}")
        uniq, inverse, counts = np.unique(groups, return_inverse=True,
                                          return_counts=True)
        order = np.random.default_rng([int(seed), 0x5EED]).permutation(
            len(uniq))
        # Whole groups, in random order, until each split has its share
        ends = np.cumsum(counts[order])
        bounds = np.cumsum(fractions)[:2] * num_samples
        group_label = np.empty(len(uniq), np.int8)
        group_label[order] = np.searchsorted(bounds, ends - 0.5 * counts[order])
        label = group_label[inverse.reshape(-1)]
        desc.update(seed=int(seed))
    else:
        perm = np.random.default_rng([int(seed), 0x5EED]).permutation(
            num_samples)
        bounds = np.round(np.cumsum(fractions) * num_samples).astype(int)
        label = np.empty(num_samples, np.int8)
        label[perm] = np.searchsorted(bounds, np.arange(num_samples),
                                      side="right")
        desc.update(seed=int(seed))
    splits = {name: np.flatnonzero((label == i) & ~excluded)
              for i, name in enumerate(SPLITS)}
    return splits, np.flatnonzero(excluded), desc
