"""Dataset cache (reuse, invalidation, corruption, resume), splits, loaders, DatasetChannel"""

import os

import numpy as np
import pytest
import sionna.phy
import tensorflow as tf

from lasco_sionna.channels import (BSArray, CDLEnvironment, DatasetChannel,
                                   Environment, Numerology, build_dataset,
                                   get_environment)

NUM = Numerology(fft_size=16, num_ofdm_symbols=14)
ARRAY = BSArray(num_cols=4)


class CountingEnvironment(Environment):
    """Deterministic toy environment that counts generated samples"""

    kind = "stochastic"

    def __init__(self, scale=1.0, fail_after=None, seed=0):
        super().__init__("toy", NUM, ARRAY, seed, normalize=True)
        self.scale = scale
        self.fail_after = fail_after
        self.calls = 0
        self.samples = 0

    def _params(self):
        return {"scale": self.scale}

    def _generate(self, num_samples, seed, num_time_steps, sampling_frequency):
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise KeyboardInterrupt("simulated kill")
        self.calls += 1
        self.samples += num_samples
        rng = np.random.default_rng(seed)
        shape = (num_samples, 1, 1, 1, 4, num_time_steps, 16)
        h = self.scale * (rng.standard_normal(shape)
                          + 1j * rng.standard_normal(shape))
        return h, {"ue_position": rng.uniform(size=(num_samples, 3))}


def test_cache_reuse_and_invalidation(tmp_path):
    env = CountingEnvironment()
    ds = build_dataset(env, 50, seed=3, cache_dir=tmp_path, chunk_size=16,
                       progress=False)
    assert env.samples == 50 and env.calls == 4
    assert ds.h.shape == (50, 1, 1, 1, 4, 1, 16) and ds.h.dtype == np.complex64
    np.testing.assert_allclose(np.mean(np.abs(ds.h) ** 2, axis=(1, 2, 3, 4, 5, 6)),
                               1, rtol=1e-5)
    again = build_dataset(env, 50, seed=3, cache_dir=tmp_path, chunk_size=16,
                          progress=False)
    assert env.samples == 50                      # loaded, not regenerated
    np.testing.assert_array_equal(again.h, ds.h)
    np.testing.assert_array_equal(again.extras["ue_position"],
                                  ds.extras["ue_position"])
    assert again.config["env"]["params"] == {"scale": 1.0}
    # Any change of the configuration is a new dataset
    for kwargs, env2 in [({"seed": 4}, env), ({}, CountingEnvironment(2.0)),
                         ({"num_time_steps": 2}, env)]:
        before = env2.samples
        other = build_dataset(env2, 50, **{"seed": 3, **kwargs},
                              cache_dir=tmp_path, chunk_size=16, progress=False)
        assert env2.samples == before + 50
        assert other.path != ds.path
    assert len([p for p in os.listdir(tmp_path) if p.endswith(".h5")]) == 4


def test_corrupted_file_is_regenerated(tmp_path):
    env = CountingEnvironment()
    ds = build_dataset(env, 40, seed=0, cache_dir=tmp_path, progress=False)
    with open(ds.path, "r+b") as f:
        f.seek(os.path.getsize(ds.path) // 2)
        f.write(b"garbage" * 100)
    with pytest.warns(UserWarning, match="unusable"):
        again = build_dataset(env, 40, seed=0, cache_dir=tmp_path,
                              progress=False)
    assert env.samples == 80
    np.testing.assert_array_equal(again.h, ds.h)
    with open(ds.path, "wb") as f:             # truncated to nothing
        f.write(b"")
    with pytest.warns(UserWarning, match="unusable"):
        build_dataset(env, 40, seed=0, cache_dir=tmp_path, progress=False)


def test_killed_build_resumes(tmp_path):
    ref = build_dataset(CountingEnvironment(), 70, seed=1,
                        cache_dir=tmp_path / "ref", chunk_size=16,
                        progress=False)
    env = CountingEnvironment(fail_after=2)
    with pytest.raises(KeyboardInterrupt):
        build_dataset(env, 70, seed=1, cache_dir=tmp_path, chunk_size=16,
                      progress=False)
    assert any(p.endswith(".partial") for p in os.listdir(tmp_path))
    env.fail_after = None
    ds = build_dataset(env, 70, seed=1, cache_dir=tmp_path, chunk_size=16,
                       progress=False)
    assert env.samples == 70                    # 2 chunks + the remaining 3
    np.testing.assert_array_equal(ds.h, ref.h)
    assert not any(p.endswith(".partial") for p in os.listdir(tmp_path))


def test_splits_and_loaders(tmp_path):
    ds = build_dataset(CountingEnvironment(), 100, seed=0, cache_dir=tmp_path,
                       split_rule="sample", progress=False)
    parts = [ds.splits[k] for k in ("train", "validation", "test")]
    assert [len(p) for p in parts] == [80, 10, 10]
    assert sorted(np.concatenate(parts)) == list(range(100))
    np.testing.assert_array_equal(ds.split("test").h, ds.h[ds.splits["test"]])
    ds2 = build_dataset(CountingEnvironment(), 100, seed=1,
                        cache_dir=tmp_path, split_rule="sample",
                        progress=False)
    assert not np.array_equal(ds.splits["test"], ds2.splits["test"])
    assert ds.as_matrix().shape == (100, 4, 16)
    batches = list(ds.split("train").tf_dataset(32, seed=0))
    assert [b.shape[0] for b in batches] == [32, 32, 16]
    assert batches[0].dtype == tf.complex64 and batches[0].shape[1:] == (4, 16)
    with pytest.raises(ValueError, match="'valid'.*allowed"):
        ds.split("valid")


def test_dataset_channel(tmp_path):
    ds = build_dataset(CountingEnvironment(), 30, seed=0, cache_dir=tmp_path,
                       progress=False)
    ch = DatasetChannel(ds, num_users=4)
    sionna.phy.config.seed = 5
    h = ch(64)
    assert h.shape == (64, 4, 1, 1, 4, 1, 16) and h.dtype == tf.complex64
    # Every user is a dataset sample, all distinct within an example
    flat = ds.h[:, 0, 0, 0].reshape(30, -1)
    got = h.numpy()[:, :, 0, 0].reshape(64, 4, -1)
    idx = np.array([[np.argmin(np.abs(flat - u).sum(1)) for u in ex]
                    for ex in got])
    np.testing.assert_array_equal(flat[idx], got)
    assert all(len(set(row)) == 4 for row in idx)
    sionna.phy.config.seed = 5
    np.testing.assert_array_equal(ch(64), h)
    xla = tf.function(lambda: ch(8), jit_compile=True)()
    assert xla.shape == (8, 4, 1, 1, 4, 1, 16)
    with pytest.raises(ValueError, match="num_users`=31 exceeds the 30 UEs"):
        DatasetChannel(ds, 31)


def test_bad_input(tmp_path):
    env = CountingEnvironment()
    with pytest.raises(ValueError, match="num_samples"):
        build_dataset(env, 0, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="splits"):
        build_dataset(env, 10, cache_dir=tmp_path, splits=(0.5, 0.6, 0.1))
    with pytest.raises(TypeError, match="Environment"):
        build_dataset("cdl-a", 10, cache_dir=tmp_path)
    with pytest.raises(ValueError, match="unknown environment 'cdl-z'.*cdl-a"):
        get_environment("cdl-z")
    with pytest.raises(TypeError):
        get_environment("cdl-a", not_a_parameter=1)


def test_cdl_environment_determinism():
    env = CDLEnvironment(model="C", numerology=Numerology(fft_size=32),
                         bs_array=BSArray(num_cols=4))
    a = env.generate(6, seed=1).h
    b = env.generate(6, seed=1).h
    c = env.generate(6, seed=2).h
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert a.shape == (6, 1, 1, 1, 4, 1, 32)


def test_nonsense_environment_parameters_are_refused(tmp_path):
    nan = float("nan")
    with pytest.raises(ValueError, match="`bs_yaw_deg` must be a finite "
                                         "number, got nan"):
        get_environment("cdl-c", bs_yaw_deg=nan)
    with pytest.raises(ValueError, match="`min_gain_db` must be a finite "
                                         "number, got -inf"):
        get_environment("rt-munich", min_gain_db=-np.inf)
    for seed in (-1, 2 ** 32, 2 ** 64, 1.5, True):
        with pytest.raises(ValueError, match=r"`seed` must be (an|a finite) integer"):
            get_environment("cdl-c", seed=seed)
    env = get_environment("cdl-c", numerology=Numerology(fft_size=32),
                          bs_array=BSArray(num_cols=2))
    with pytest.raises(ValueError, match=r"`seed` must be a finite integer in "
                                         r"\[0, 4294967295\], got 4294967296"):
        env.generate(2, seed=2 ** 32)
    with pytest.raises(ValueError, match=r"`seed` must be a finite integer in"):
        build_dataset(env, 2, seed=2 ** 32, cache_dir=tmp_path)
    # Overrides may repeat, not contradict, what the name stands for
    assert get_environment("cdl-c", model="C").model == "C"
    with pytest.raises(ValueError, match="environment 'cdl-c' has "
                                         "model='C', got model='A'"):
        get_environment("cdl-c", model="A")
    with pytest.raises(ValueError, match="'umi-los' has los=True, got "
                                         "los=False"):
        get_environment("umi-los", los=False)
    with pytest.raises(ValueError, match="'uma' has scenario='uma'"):
        get_environment("uma", scenario="umi")
    with pytest.raises(ValueError, match="'rt-munich' has scene='munich'"):
        get_environment("rt-munich", scene="florence")
