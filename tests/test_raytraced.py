"""Ray-traced environments through the RT worker, and the import-order guarantee"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from lasco_sionna.channels import BSArray, Numerology, get_environment, list_environments
from lasco_sionna.channels.raytraced import SCENES, RayTracedEnvironment
from lasco_sionna.channels.rt_worker import RTWorker, get_worker

SMALL = dict(numerology=Numerology(fft_size=32), bs_array=BSArray(num_cols=4),
             samples_per_src=20000, max_depth=2)


def small_env(**kwargs):
    return get_environment("rt-simple_street_canyon", **{**SMALL, **kwargs})


def test_registry_lists_all_scenes():
    names = list_environments("raytraced")
    assert {f"rt-{s}" for s in SCENES} == set(names)
    for scene in ("munich", "etoile", "florence", "san_francisco",
                  "simple_street_canyon"):
        assert f"rt-{scene}" in names


def test_generate_shape_determinism_normalisation():
    env = small_env()
    a = env.generate(6, seed=1)
    assert a.h.shape == (6, 1, 1, 1, 4, 1, 32) and a.h.dtype == np.complex64
    np.testing.assert_allclose(np.mean(np.abs(a.h) ** 2, axis=(1, 2, 3, 4, 5, 6)),
                               1, rtol=1e-4)
    assert a.extras["ue_position"].shape == (6, 3)
    b = env.generate(6, seed=1)
    # Same seed, same drops and (nearly) the same channels: Sionna RT's CPU
    # path solver is not bit-reproducible -- it accumulates paths in
    # parallel, and now and then a UE gets a slightly different path set
    # (seen: 22 of 1,536 florence UEs, some far off). Most UEs match to
    # float rounding
    np.testing.assert_array_equal(a.extras["ue_position"],
                                  b.extras["ue_position"])
    err = np.sum(np.abs(a.h - b.h) ** 2, axis=(1, 2, 3, 4, 5, 6)) / \
        np.sum(np.abs(a.h) ** 2, axis=(1, 2, 3, 4, 5, 6))
    assert np.median(err) < 1e-10, err
    c = env.generate(6, seed=2)
    assert not np.allclose(a.h[:, ..., :1], c.h[:, ..., :1])
    # Raw gains are physical (tens of dB of path loss) and UEs are outdoors
    assert np.all(a.gain_db < -40)


def test_stored_cir_reproduces_the_frequency_response():
    """``cir_a``/``cir_tau`` through Sionna's cir_to_ofdm_channel give ``h``"""
    from sionna.phy.channel import cir_to_ofdm_channel, subcarrier_frequencies
    num = Numerology(fft_size=32)
    env = small_env(cir_paths=64, ue_speed=30.0)
    s = env.generate(4, seed=5, num_time_steps=2)
    a, tau = s.extras["cir_a"], s.extras["cir_tau"]
    assert a.shape == (4, 4, 64, 2) and a.dtype == np.complex64
    assert tau.shape == (4, 64) and tau.dtype == np.float32
    assert np.all(tau >= 0) and np.all(np.min(tau, axis=1) == 0)
    # Strongest first; 64 slots hold every path of this small scene
    energy = np.sum(np.abs(a) ** 2, axis=(1, 3))
    assert np.all(np.diff(energy, axis=1) <= 1e-12)
    assert np.all(energy[:, -1] == 0)
    f = subcarrier_frequencies(num.fft_size, num.subcarrier_spacing)
    # [4, 1, 1, 1, 4, 64, 2] and [4, 1, 1, 64]
    h = cir_to_ofdm_channel(f, a[:, None, None, None], tau[:, None, None],
                            normalize=False).numpy()
    err = np.sum(np.abs(h - s.h) ** 2) / np.sum(np.abs(s.h) ** 2)
    assert err < 1e-8, err
    # Fewer slots keep the strongest paths: the same first columns
    few = small_env(cir_paths=3, ue_speed=30.0).generate(4, seed=5,
                                                         num_time_steps=2)
    np.testing.assert_allclose(np.abs(few.extras["cir_a"]),
                               np.abs(a[:, :, :3]), rtol=1e-3, atol=1e-6)
    none = small_env(cir_paths=0).generate(2, seed=5)
    assert "cir_a" not in none.extras


def test_doppler_snapshots():
    env = small_env(ue_speed=30.0)
    num = env.numerology
    fs = 1.0 / num.slot_duration
    s = env.generate(4, seed=3, num_time_steps=3, sampling_frequency=fs)
    assert s.h.shape == (4, 1, 1, 1, 4, 3, 32)
    np.testing.assert_allclose(np.linalg.norm(s.extras["ue_velocity"], axis=1),
                               30.0, rtol=1e-5)
    # Snapshot 0 equals the static channel at the same positions
    static = env.trace(s.extras["ue_position"])
    h0 = s.h[:, 0, 0, 0, :, 0]
    h_static = static[:, :, 0]
    h_static = h_static / np.sqrt(np.mean(np.abs(h_static) ** 2, axis=(1, 2),
                                          keepdims=True))
    scale = h0 / h_static
    np.testing.assert_allclose(np.abs(scale), np.broadcast_to(np.abs(scale[:, :1, :1]), scale.shape),
                               rtol=1e-3)
    # Later snapshots rotate path phases: the channel changes, but every
    # path keeps its amplitude (frozen geometry; a scale error over time
    # would show). The per-UE energy itself fades between snapshots.
    assert not np.allclose(s.h[..., 0, :], s.h[..., 2, :])
    a = s.extras["cir_a"]                      # [N, num_bs_ant, paths, T]
    assert a.shape[-1] == 3
    assert not np.allclose(a[..., 0], a[..., 2])
    np.testing.assert_allclose(np.abs(a[..., 2]), np.abs(a[..., 0]),
                               rtol=1e-4, atol=1e-6 * np.abs(a).max())


def test_trajectory_retraces():
    env = small_env()
    h = env.generate_trajectory(start=[20.0, 0.0, 1.5], velocity=[10.0, 0, 0],
                                num_steps=3, step_duration=0.5)
    assert h.shape == (3, 1, 1, 1, 4, 1, 32)
    assert not np.allclose(h[0], h[2])


def test_retrace_follows_doppler_over_a_short_walk_only():
    """Re-tracing along the trajectory agrees with Doppler over frozen
    geometry over millimetres and departs from it over metres; the traced
    points lie on the straight line at the UE's speed"""
    def nmse_db(speed, fs):
        d, r = (small_env(ue_speed=speed, time_model=m).generate(
            4, seed=1, num_time_steps=3, sampling_frequency=fs)
            for m in ("doppler", "retrace"))
        # Same drops and directions (no trajectory here crosses a wall)
        np.testing.assert_array_equal(r.extras["ue_position"],
                                      d.extras["ue_position"])
        np.testing.assert_array_equal(r.extras["ue_velocity"],
                                      d.extras["ue_velocity"])
        traj, vel = r.extras["ue_trajectory"], r.extras["ue_velocity"]
        assert traj.shape == (4, 3, 3) and traj.dtype == np.float64
        # [4, 3, 3]: start + velocity * t, at the start's height (flat)
        line = d.extras["ue_position"][:, None] + vel[:, None] * (
            np.arange(3) / fs)[None, :, None]
        np.testing.assert_allclose(traj, line, atol=1e-4)
        np.testing.assert_allclose(np.linalg.norm(np.diff(traj, axis=1),
                                                  axis=-1) * fs, speed,
                                   rtol=1e-3)
        assert "cir_a" not in r.extras
        # [4, 3]: per UE and snapshot
        err = np.sum(np.abs(d.h - r.h) ** 2, axis=(1, 2, 3, 4, 6)) / \
            np.sum(np.abs(r.h) ** 2, axis=(1, 2, 3, 4, 6))
        return 10 * np.log10(np.median(err, axis=0))
    # 1 mm steps (0.01 wavelength at 3.5 GHz): the same channel, to the
    # path solver's float32 precision (-62 dB or lower seen). Without the
    # carrier phase of the first path's length (Sionna's delay
    # normalisation removes it at every point) this was -19 dB
    short = nmse_db(1.0, 1e3)
    assert np.all(short < -45), short
    # 2 m steps (23 wavelengths): the geometry changes (-3 to +6 dB seen
    # at the last snapshot)
    long = nmse_db(10.0, 5.0)
    assert long[-1] > -10, long


def test_trajectories_do_not_cross_walls():
    pos = small_env().drop_ues(2, seed=0)
    phi = np.arange(8) * np.pi / 4
    # [8, 3]: eight horizontal directions
    directions = np.stack([np.cos(phi), np.sin(phi), np.zeros(8)], axis=1)
    for p in pos:
        for speed, walls in ((1e-3, False), (300.0, True)):
            traj, clear = get_worker().call(
                "trajectories", scene="simple_street_canyon",
                starts=np.repeat(p[None], 8, axis=0),
                velocities=speed * directions, times=np.array([0.0, 0.5, 1.0]),
                ue_height=1.5)
            assert traj.shape == (8, 3, 3)
            if not walls:
                # At UE height over the (flat) ground
                np.testing.assert_allclose(traj[:, :, 2], p[2], atol=1e-4)
            # 1 mm walks are clear; 300 m walks end in buildings in some
            # directions (and go down the street in others)
            assert np.all(clear) != walls, (p, speed, clear)


def test_time_model_cache_key_and_bad_input():
    doppler = small_env(ue_speed=3.0)
    assert doppler.time_model == "doppler" and doppler.cir_paths == 32
    assert "time_model" not in doppler.config()["params"]
    assert small_env(ue_speed=3.0, time_model="doppler").config_hash() == \
        doppler.config_hash()
    retrace = small_env(ue_speed=3.0, time_model="retrace")
    assert retrace.config()["params"]["time_model"] == "retrace"
    assert retrace.cir_paths == 0
    assert retrace.config_hash() != doppler.config_hash()
    with pytest.raises(ValueError, match="`time_model`='teleport' is not "
                                         "valid; allowed: 'doppler', "
                                         "'retrace'"):
        small_env(ue_speed=3.0, time_model="teleport")
    with pytest.raises(ValueError, match="`ue_speed` must be > 0, got 0"):
        small_env(time_model="retrace")
    with pytest.raises(ValueError, match="`ue_speed` must be a finite "
                                         "number >= 0, got -1.0"):
        small_env(ue_speed=-1.0, time_model="retrace")
    with pytest.raises(ValueError, match="`cir_paths` must be 0 or None, "
                                         "got 8"):
        small_env(ue_speed=3.0, time_model="retrace", cir_paths=8)
    with pytest.raises(ValueError, match="`sampling_frequency` must be a "
                                         "finite number > 0, got -5.0"):
        retrace.generate(2, num_time_steps=2, sampling_frequency=-5.0)
    with pytest.raises(TypeError):
        small_env(ue_speed=3.0, time_modle="retrace")


def test_path_solver_seed_is_a_parameter(monkeypatch):
    """The path solver's seed (a fixed 42 before) is ``solver_seed``; the
    default keeps every cached dataset's key"""
    from lasco_sionna.channels import raytraced  # noqa: PLC0415
    calls = []

    class Worker:  # records what the environment asks the worker
        def call(self, name, **kwargs):
            calls.append((name, kwargs))
            n = len(kwargs["ue_positions"])
            return np.zeros([n, 4, 1, 32], np.complex64)

    monkeypatch.setattr(raytraced, "get_worker", Worker)
    default, other = small_env(bs_position=[0.0, 0.0, 10.0]), \
        small_env(bs_position=[0.0, 0.0, 10.0], solver_seed=7)
    assert default.solver_seed == 42
    assert "solver_seed" not in default.config()["params"]
    assert other.config()["params"]["solver_seed"] == 7
    assert default.config_hash() != other.config_hash()
    assert small_env(bs_position=[0.0, 0.0, 10.0], solver_seed=42) \
        .config_hash() == default.config_hash()
    for env, seed in ((default, 42), (other, 7)):
        env.trace(np.zeros([2, 3]))
        assert calls[-1][0] == "trace" and calls[-1][1]["seed"] == seed
    with pytest.raises(ValueError, match="`solver_seed` must be"):
        small_env(solver_seed=-1)


def test_bad_input_and_worker_errors():
    with pytest.raises(ValueError, match="'atlantis' is not valid; allowed: "
                                         "'munich'"):
        RayTracedEnvironment(scene="atlantis")
    with pytest.raises(ValueError, match="unknown environment 'rt-atlantis'"):
        get_environment("rt-atlantis")
    with pytest.raises(TypeError):
        small_env(not_a_parameter=3)
    with pytest.raises(ValueError, match="bs_position"):
        small_env(bs_position=[0.0, 1.0])
    with pytest.raises(RuntimeError, match="ValueError: boom"):
        get_worker().call("fail", message="boom")
    with pytest.raises(RuntimeError, match="unknown worker function"):
        get_worker().call("nope")
    worker = RTWorker()
    assert worker.call("ping")["tensorflow"] is False
    worker.close()


IMPORT_ORDERS = {
    "tensorflow first": "import tensorflow as tf\nimport lasco_sionna",
    "sionna.phy first": "import sionna.phy\nimport lasco_sionna",
    "sionna.rt first": "import sionna.rt\nimport tensorflow\nimport lasco_sionna",
}


@pytest.mark.slow
@pytest.mark.parametrize("order", sorted(IMPORT_ORDERS))
def test_import_order_never_crashes(order):
    code = IMPORT_ORDERS[order] + textwrap.dedent("""
        from lasco_sionna.channels import BSArray, Numerology, get_environment
        env = get_environment("rt-simple_street_canyon",
                              numerology=Numerology(fft_size=16),
                              bs_array=BSArray(num_cols=2),
                              samples_per_src=5000, max_depth=1)
        s = env.generate(2, seed=0)
        print("OK", s.h.shape)
        """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True,
                          text=True, timeout=300,
                          env={"TF_CPP_MIN_LOG_LEVEL": "3",
                               **__import__("os").environ})
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    assert "OK (2, 1, 1, 1, 2, 1, 16)" in proc.stdout
