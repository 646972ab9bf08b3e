"""Splits that keep test samples distinct from training ones; distinct ray-traced drops; chunked builds on Ray and concurrent builds"""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from scipy.spatial import cKDTree

from lasco_sionna.channels import (BSArray, Numerology, build_dataset,
                                   get_environment)
from lasco_sionna.channels.splits import block_splits, split_samples


def _uniform_positions(num, size, seed):
    rng = np.random.default_rng(seed)
    pos = rng.uniform(-size / 2, size / 2, (num, 3))
    pos[:, 2] = 1.5
    return pos


def test_location_split_is_spatially_disjoint():
    pos = _uniform_positions(20000, 2000.0, 0)
    # A near-copy (0.1 m away) of sample 7 is a duplicate
    pos[123] = pos[7] + [0.1, 0.0, 0.0]
    splits, excluded, rule = split_samples(
        len(pos), (0.8, 0.1, 0.1), "location", positions=pos, key="rt-x",
        block_size=50.0, guard=5.0, min_separation=0.5)
    assert rule["rule"] == "location" and rule["key"] == "rt-x"
    assert 123 in excluded and 7 not in excluded
    everything = np.concatenate(list(splits.values()) + [excluded])
    np.testing.assert_array_equal(np.sort(everything), np.arange(len(pos)))
    train = cKDTree(pos[splits["train"]])
    for name in ("validation", "test"):
        d, _ = train.query(pos[splits[name]])
        assert d.min() >= 5.0, name
    # Each block is in one split; the block shares follow the fractions
    blocks = np.floor(pos[:, :2] / 50.0).astype(int)
    owner = {}
    for name, idx in splits.items():
        for b in map(tuple, blocks[idx]):
            assert owner.setdefault(b, name) == name
    labels = block_splits(np.unique(blocks, axis=0), (0.8, 0.1, 0.1), "rt-x")
    share = np.bincount(labels, minlength=3) / len(labels)
    # 1,600 blocks: binomial standard deviation of the train share 0.01
    np.testing.assert_allclose(share, [0.8, 0.1, 0.1], atol=0.035)
    # The guard band costs about 1 - (40/50)^2 of the non-training samples
    # that border a training block; far fewer are left out in all
    assert 0.05 < len(excluded) / len(pos) < 0.15


def test_location_split_agrees_across_datasets():
    a = _uniform_positions(3000, 1000.0, 1)
    b = _uniform_positions(3000, 1000.0, 2)
    sa, _, _ = split_samples(3000, (0.8, 0.1, 0.1), "location", positions=a,
                             key="rt-munich")
    sb, _, _ = split_samples(3000, (0.8, 0.1, 0.1), "location", positions=b,
                             key="rt-munich")
    # A test place of one dataset is never a training place of the other
    for x, y in ((sa, sb), (sb, sa)):
        d, _ = cKDTree((a if x is sb else b)[y["train"]]).query(
            (a if x is sa else b)[x["test"]])
        assert d.min() >= 5.0
    # Other fractions: A's training places are never B's test places when
    # f_train(A) + f_test(B) <= 1 (e.g. an adaptation draw and a link draw)
    sc, _, _ = split_samples(3000, (0.375, 0.375, 0.25), "location",
                             positions=a, key="rt-munich")
    sd, _, _ = split_samples(3000, (0.5, 0.25, 0.25), "location",
                             positions=b, key="rt-munich")
    d, _ = cKDTree(a[sc["train"]]).query(b[sd["test"]])
    assert d.min() >= 5.0
    # Another scene key gives another assignment
    blocks = np.array([[i, j] for i in range(20) for j in range(20)])
    assert not np.array_equal(block_splits(blocks, (0.8, 0.1, 0.1), "a"),
                              block_splits(blocks, (0.8, 0.1, 0.1), "b"))


def test_group_and_sample_splits():
    groups = np.repeat(np.arange(250), 8)
    splits, excluded, _ = split_samples(2000, (0.8, 0.1, 0.1), "group",
                                        seed=3, groups=groups)
    assert len(excluded) == 0
    seen = [set(groups[idx]) for idx in splits.values()]
    assert not (seen[0] & seen[1] or seen[0] & seen[2] or seen[1] & seen[2])
    assert [len(v) for v in splits.values()] == [1600, 200, 200]
    splits, _, _ = split_samples(100, (0.8, 0.1, 0.1), "sample", seed=0)
    assert [len(v) for v in splits.values()] == [80, 10, 10]
    np.testing.assert_array_equal(
        np.sort(np.concatenate(list(splits.values()))), np.arange(100))


def test_bad_split_input():
    pos = _uniform_positions(10, 100.0, 0)
    with pytest.raises(ValueError, match="needs `positions`"):
        split_samples(10, (0.8, 0.1, 0.1), "location")
    bad = pos.copy()
    bad[3, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        split_samples(10, (0.8, 0.1, 0.1), "location", positions=bad)
    with pytest.raises(ValueError, match="`guard`=30.*half"):
        split_samples(10, (0.8, 0.1, 0.1), "location", positions=pos,
                      block_size=50.0, guard=30.0)
    with pytest.raises(ValueError, match="summing to 1"):
        split_samples(10, (0.8, 0.1, 0.2), "sample")
    with pytest.raises(ValueError, match="summing to 1"):
        split_samples(10, (0.8, float("nan"), 0.2), "sample")
    with pytest.raises(ValueError, match="'blocks' is not valid"):
        split_samples(10, (0.8, 0.1, 0.1), "blocks")
    with pytest.raises(ValueError, match="needs `groups`"):
        split_samples(10, (0.8, 0.1, 0.1), "group")


def test_raytraced_dataset_has_distinct_positions_and_disjoint_split(tmp_path):
    """Fails on drops at radio-map cell centres drawn with replacement"""
    env = get_environment("rt-simple_street_canyon",
                          numerology=Numerology(fft_size=16),
                          bs_array=BSArray(num_cols=4), samples_per_src=20000,
                          max_depth=2, num_sites=2)
    ds = build_dataset(env, 120, seed=0, cache_dir=tmp_path, chunk_size=60,
                       block_size=20.0, guard=2.0, progress=False)
    assert ds.split_rule["rule"] == "location"
    np.testing.assert_array_equal(ds.extras["site"][:4], [0, 1, 0, 1])
    pos = ds.extras["ue_position"]
    assert len(np.unique(pos, axis=0)) == len(pos)
    rep = ds.describe()
    assert rep["distinct_positions"] == 120
    assert rep["min_train_test_distance_m"] >= 2.0
    assert rep["num_train"] + rep["num_validation"] + rep["num_test"] + \
        rep["num_excluded"] == 120
    train = {tuple(p) for p in np.round(pos[ds.splits["train"]], 3)}
    assert not train & {tuple(p) for p in np.round(pos[ds.splits["test"]], 3)}
    # The nearest-neighbour NMSE against a brute-force lookup
    flat = ds.h[:, 0, 0, 0, :, 0].reshape(len(ds), -1)
    err = [min(np.sum(np.abs(flat[i] - flat[j]) ** 2)
               for j in ds.splits["train"]) / np.sum(np.abs(flat[i]) ** 2)
           for i in ds.splits["test"]]
    np.testing.assert_allclose(
        ds.describe(max_queries=1000)["nn_test_train_nmse_db"],
        10 * np.log10(np.mean(err)), atol=1e-3)


@pytest.mark.slow
def test_chunks_on_ray_give_the_same_file(tmp_path):
    pytest.importorskip("ray")
    import ray  # pylint: disable=import-outside-toplevel
    from lasco_sionna.utils.executors import RayExecutor
    env = get_environment("umi-nlos", numerology=Numerology(fft_size=16),
                          bs_array=BSArray(num_cols=4))
    ref = build_dataset(env, 96, seed=2, cache_dir=tmp_path / "local",
                        chunk_size=32, progress=False)
    try:
        ds = build_dataset(env, 96, seed=2, cache_dir=tmp_path / "ray",
                           chunk_size=32,
                           executor=RayExecutor(num_workers=2,
                                                progress=False),
                           progress=False)
    finally:
        ray.shutdown()
    np.testing.assert_array_equal(ds.h, ref.h)
    np.testing.assert_array_equal(ds.extras["drop"], ref.extras["drop"])
    for k in ref.splits:
        np.testing.assert_array_equal(ds.splits[k], ref.splits[k])
    assert os.path.basename(ds.path) == os.path.basename(ref.path)


@pytest.mark.slow
def test_concurrent_builds_of_one_dataset(tmp_path):
    code = textwrap.dedent(f"""
        from lasco_sionna.channels import BSArray, Numerology, build_dataset, get_environment
        env = get_environment("cdl-c", numerology=Numerology(fft_size=16),
                              bs_array=BSArray(num_cols=4))
        ds = build_dataset(env, 192, seed=5, cache_dir={str(tmp_path)!r},
                           chunk_size=16, progress=False)
        print("OK", ds.path, float(abs(ds.h).sum()))
        """)
    env = {"TF_CPP_MIN_LOG_LEVEL": "3", **os.environ}
    procs = [subprocess.Popen([sys.executable, "-c", code],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, env=env) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    for p, (out, err) in zip(procs, outs):
        assert p.returncode == 0, err[-2000:]
    lines = [out.strip().splitlines()[-1] for out, _ in outs]
    assert lines[0] == lines[1] and lines[0].startswith("OK")
    leftovers = [p for p in os.listdir(tmp_path)
                 if p.endswith((".partial", ".tmp"))]
    assert not leftovers


def test_split_arguments_are_checked_before_generating(tmp_path):
    cdl = get_environment("cdl-c", numerology=Numerology(fft_size=16),
                          bs_array=BSArray(num_cols=4))
    with pytest.raises(ValueError, match="'location' does not fit"):
        build_dataset(cdl, 8, cache_dir=tmp_path, split_rule="location")
    with pytest.raises(ValueError, match="`guard`=30.*half"):
        build_dataset(cdl, 8, cache_dir=tmp_path, guard=30.0)
    assert not os.listdir(tmp_path)
    # One given BS position is one site
    env = get_environment("rt-florence", bs_position=[0.0, 0.0, 30.0])
    assert env.num_sites == 1
