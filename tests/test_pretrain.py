#
# SPDX-License-Identifier: Apache-2.0
#
"""sims/pretrain.py: resume from a checkpoint (and from the earlier checkpoint format); a second phase continues a finished first phase; a run starts from another config's run"""

import json
import os
import shutil
import sys

import numpy as np
import pandas as pd
import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Keras' first optimizer variable is its iteration counter
ITERATIONS = "optimizer_variables/0/.ATTRIBUTES/VARIABLE_VALUE"


def _config(name, num_samples, steps, lr, **extra):
    return {"name": name, "model": "lam", "seed": 0, "num_ant": 32,
            "num_taps": 32, "numerology": {"fft_size": 256},
            "bs_array": {"num_cols": 32},
            "encoder": {"compression": 16, "bits_per_measurement": 4,
                        "seed": 0},
            "model_params": {"d_model": 8, "num_layers": 1, "num_heads": 2,
                             "ff_dim": 16, "code_dim": 128},
            "sources": [{"environment": "cdl-a",
                         "num_samples": num_samples,
                         "params": {"delay_spread": 100e-9}}],
            "max_validation": 8,
            "optim": {"lr": lr, "warmup": 1, "steps": steps,
                      "batch_size": 8, "eval_every": steps,
                      "checkpoint_every": steps},
            **extra}


def _run(pretrain, tmp_path, monkeypatch, config, out, *flags):
    """``sims/pretrain.py <tmp_path>/<name>.yaml --out <out> <flags>``"""
    path = tmp_path / f"{config['name']}.yaml"
    path.write_text(yaml.safe_dump(config))
    monkeypatch.setattr(sys, "argv", [
        "pretrain.py", str(path), "--out", str(out), *flags])
    pretrain.main()


def _iterations(pretrain, run):
    """The optimizer's iteration counter in a run's last checkpoint"""
    import tensorflow as tf  # noqa: PLC0415
    return int(tf.train.load_variable(pretrain.latest_checkpoint(run),
                                      ITERATIONS))


def _run_weights(pretrain, config, run, h5_arrays):
    """Model weights of a run's last checkpoint, as a Keras weights file
    holds them -> {path in the file: array}"""
    _, _, model = pretrain.build(config)
    pretrain.load_run_weights(run, model)
    path = os.path.join(run, "check.weights.h5")
    model.save_weights(path)
    try:
        return h5_arrays(path)
    finally:
        os.remove(path)


@pytest.mark.slow
def test_continue_from(tmp_path, monkeypatch, h5_arrays, sims_script):
    monkeypatch.setenv("LASCO_SIONNA_CACHE", str(tmp_path / "cache"))
    pretrain = sims_script("pretrain")
    runs = tmp_path / "runs"

    def run(config, *flags):
        _run(pretrain, tmp_path, monkeypatch, config, runs / config["name"],
             *flags)

    phase1 = _config("p1", 64, 3, 1e-2)
    # Phase 2: more data; a zero learning rate leaves phase 1's weights as
    # they are, so they must come out bit-identical
    phase2 = _config("p2", 96, 2, 0.0, continue_from="p1.yaml")
    with pytest.raises(FileNotFoundError, match="no config file"):
        run(phase2)
    (tmp_path / "p1.yaml").write_text(yaml.safe_dump(phase1))
    with pytest.raises(FileNotFoundError, match="train it first"):
        run(phase2)
    run(phase1, "--max-minutes", "0")             # stops after one step
    with pytest.raises(ValueError, match="stopped at step 1 of 3"):
        run(phase2)
    run(phase1)
    other = _config("p2", 96, 2, 0.0, continue_from="p1.yaml")
    other["model_params"]["d_model"] = 16
    with pytest.raises(ValueError, match="different `model_params`"):
        run(other)
    other = _config("p2", 96, 2, 0.0, continue_from="p1.yaml")
    other["encoder"]["compression"] = 32
    with pytest.raises(ValueError, match="different `encoder`"):
        run(other)
    run(phase2, "--max-minutes", "0")             # killed in phase 2 ...
    os.rename(runs / "p1", tmp_path / "p1-moved")  # (phase 1 not needed)
    run(phase2)                                   # ... and resumed
    os.rename(tmp_path / "p1-moved", runs / "p1")
    # A fresh optimizer: its iteration counter counts this phase's 2 steps
    assert _iterations(pretrain, runs / "p2") == 2
    with open(runs / "p2" / "state.json", encoding="utf-8") as f:
        state = json.load(f)
    assert state == {"name": "p2", "step": 5,
                     "elapsed_s": state["elapsed_s"], "phase_start": 3}
    log = pd.read_csv(runs / "p2" / "log.csv")
    assert log.step.tolist() == [3, 5]            # phase 1's log carried on
    assert log.elapsed_s.is_monotonic_increasing
    w1, w2 = _run_weights(pretrain, phase1, runs / "p1", h5_arrays), \
        _run_weights(pretrain, phase2, runs / "p2", h5_arrays)
    assert w1.keys() == w2.keys() and len(w1) > 10
    for k, v in w1.items():
        np.testing.assert_array_equal(v, w2[k], err_msg=k)
    # init_from a config file: another encoder (CR 1/32), the same model;
    # everything but the lift (re-initialised to the CR 1/32 LMMSE decoder)
    # is phase 1's
    other = _config("p3", 64, 2, 0.0, init_from="p1.yaml")
    other["encoder"]["compression"] = 32
    run(other)
    w3 = _run_weights(pretrain, other, runs / "p3", h5_arrays)
    assert w1.keys() == w3.keys()
    changed = {k for k, v in w1.items() if not np.array_equal(v, w3[k])}
    assert changed and all("lift" in k for k in changed), changed
    other = _config("p4", 64, 2, 0.0, init_from="p1.yaml")
    other["model_params"]["num_layers"] = 2
    with pytest.raises(ValueError, match="different `model_params`"):
        run(other)


@pytest.mark.slow
def test_continue_from_shipped_parent(tmp_path, monkeypatch, h5_arrays,
                                      sims_script):
    """Phase 2 starts from the shipped phase-1 weights when the phase-1 run
    directory is gone (``--init-from-package``), and refuses other weights"""
    monkeypatch.setenv("LASCO_SIONNA_CACHE", str(tmp_path / "cache"))
    pretrain = sims_script("pretrain")
    weights = tmp_path / "weights"
    monkeypatch.setattr(pretrain, "WEIGHTS_DIR", str(weights))

    def run(config, out, *flags):
        _run(pretrain, tmp_path, monkeypatch, config, tmp_path / out, *flags)

    phase1 = _config("p1", 64, 3, 1e-2)
    phase2 = _config("p2", 96, 2, 0.0, continue_from="p1.yaml")
    run(phase1, "runs/p1", "--export")
    # The export stamps the weights' SHA-256; the record loads by path
    from lasco_sionna.models import load_pretrained  # noqa: PLC0415
    from lasco_sionna.utils.io import file_sha256  # noqa: PLC0415
    assert json.loads((weights / "p1.json").read_text())["sha256"] == \
        file_sha256(weights / "p1.weights.h5")
    assert load_pretrained(weights / "p1.json")[2]["name"] == "p1"
    # Phase 1 shipped under phase 2's name, its run directory lost: as
    # exported (`phase_start` 0, phase 1's name), or an early export that
    # records neither `phase_start` nor phase 1's name
    shutil.copy(weights / "p1.weights.h5", weights / "p2.weights.h5")
    exported = json.loads((weights / "p1.json").read_text())
    early = {k: v for k, v in exported.items() if k != "phase_start"}
    early["config"] = {**exported["config"], "name": "p2"}
    shutil.rmtree(tmp_path / "runs")
    w1 = h5_arrays(weights / "p1.weights.h5")
    for i, record in enumerate((exported, early)):
        (weights / "p2.json").write_text(json.dumps(record))
        out = tmp_path / "runs" / f"p2-{i}"
        with pytest.raises(FileNotFoundError, match="train it first"):
            run(phase2, out)                      # without the flag
        run(phase2, out, "--init-from-package")
        with open(out / "state.json", encoding="utf-8") as f:
            state = json.load(f)
        assert (state["step"], state["phase_start"]) == (5, 3)
        assert _iterations(pretrain, out) == 2   # a fresh optimizer
        assert pd.read_csv(out / "log.csv").step.tolist() == [3, 5]
        # Zero learning rate: phase 2 holds the shipped (float16) weights
        w2 = _run_weights(pretrain, phase2, out, h5_arrays)
        assert w1.keys() == w2.keys() and len(w1) > 10
        for k, v in w1.items():
            np.testing.assert_array_equal(v.astype(w2[k].dtype), w2[k],
                                          err_msg=k)
    # Weights that are neither this phase nor the finished parent
    record = json.loads((weights / "p2.json").read_text())
    for key, value, match in (("steps", 2, "it ran 2 steps"),
                              ("config", {**phase1, "seed": 1},
                               r"another \['seed'\]")):
        (weights / "p2.json").write_text(json.dumps({**record, key: value}))
        with pytest.raises(ValueError, match=match):
            run(phase2, "runs/p2-again", "--init-from-package")


def test_bad_configs(tmp_path, monkeypatch, sims_script):
    pretrain = sims_script("pretrain")
    bad = _config("b", 64, 3, 1e-3)
    bad["optim"]["warmup"] = 3
    with pytest.raises(ValueError, match="`optim.warmup`=3 must be in"):
        pretrain.check_config(bad)
    bad = _config("b", 64, 3, 1e-3, continue_from="a.yaml", init_from="x")
    with pytest.raises(ValueError, match="not both"):
        pretrain.check_config(bad)
    bad = _config("b", 64, 3, 1e-3)
    bad["optim"]["eval_every"] = 0
    with pytest.raises(ValueError, match="`optim.eval_every`=0"):
        pretrain.check_config(bad)
    # --export-only without a checkpoint, before any data is built
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        _run(pretrain, tmp_path, monkeypatch, _config("b", 64, 3, 1e-3),
             tmp_path / "b", "--export-only")
    # validation_from outside [0, num_samples)
    bad = _config("b", 64, 3, 1e-3)
    bad["sources"][0]["validation_from"] = 64
    monkeypatch.setenv("LASCO_SIONNA_CACHE", str(tmp_path / "cache"))
    from lasco_sionna.models import load_source_images  # noqa: PLC0415
    with pytest.raises(ValueError, match="`validation_from`=64 must be in"):
        load_source_images(bad, verbose=False)


def test_validation_from_keeps_only_later_draws(tmp_path, monkeypatch):
    """The source images pretraining reads (the library's loader; the
    script's copy is gone)"""
    from lasco_sionna.channels import (BSArray, Numerology,  # noqa: PLC0415
                                       build_dataset, get_environment)
    from lasco_sionna.csi import csi_image  # noqa: PLC0415
    from lasco_sionna.models import load_source_images  # noqa: PLC0415
    monkeypatch.setenv("LASCO_SIONNA_CACHE", str(tmp_path / "cache"))
    cfg = _config("v", 64, 3, 1e-3)
    cfg["max_validation"] = 64
    full = load_source_images(cfg, verbose=False)["cdl-a"]
    cfg["sources"][0]["validation_from"] = 32
    late = load_source_images(cfg, test=True, verbose=False)["cdl-a"]
    np.testing.assert_array_equal(full[0], late[0])    # training unchanged
    env = get_environment("cdl-a", numerology=Numerology(fft_size=256),
                          bs_array=BSArray(num_cols=32), delay_spread=100e-9)
    ds = build_dataset(env, 64, seed=0, progress=False)
    val = ds.splits["validation"]
    assert 0 < (val >= 32).sum() < len(val)
    expected = csi_image(ds.as_matrix()[val[val >= 32]], 32)[0].numpy()
    np.testing.assert_allclose(late[1], expected, rtol=1e-6, atol=1e-6)
    assert len(late) == 3 and all(p.dtype == np.float32 for p in late)
    test = ds.splits["test"]
    np.testing.assert_allclose(
        late[2], csi_image(ds.as_matrix()[test[test >= 32]], 32)[0].numpy(),
        rtol=1e-6, atol=1e-6)


def test_draw_batch_shares(sims_script):
    pretrain = sims_script("pretrain")
    sizes = [1000, 100, 10]
    pooled = pretrain.draw_batch(sizes, 200_000, "pooled", [0, 1])
    balanced = pretrain.draw_batch(sizes, 200_000, "balanced", [0, 1])
    edges = np.cumsum([0] + sizes)
    for idx, share in ((pooled, np.array(sizes) / sum(sizes)),
                       (balanced, np.full(3, 1 / 3))):
        assert idx.min() >= 0 and idx.max() < sum(sizes)
        counts = np.histogram(idx, bins=edges)[0]
        np.testing.assert_allclose(counts / len(idx), share, atol=0.005)
    # Balanced: uniform within a source (the 10-image source, every image)
    within = np.bincount(balanced[balanced >= 1100] - 1100, minlength=10)
    np.testing.assert_allclose(within / within.sum(), 0.1, atol=0.01)
    # Pooled is the historical draw (reproduces the shipped phase-1 runs)
    np.testing.assert_array_equal(
        pretrain.draw_batch(sizes, 128, "pooled", [0, 7]),
        np.random.default_rng([0, 7]).integers(0, 1110, 128))


class Killed(Exception):
    """Stands for a SIGKILL at a chosen point of a run"""


def _tiny_config():
    """``sims/configs/lam_tiny.yaml`` (model, encoder, optimiser keys as
    shipped) on small source datasets and a short schedule: 8 steps,
    evaluations every 2, checkpoints every 3"""
    with open(os.path.join(ROOT, "sims", "configs", "lam_tiny.yaml"),
              encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    cfg["sources"][0]["num_samples"] = 96
    cfg["sources"][1]["num_samples"] = 160     # 20 UMi drops
    cfg["max_validation"] = 16
    cfg["optim"].update(warmup=2, steps=8, batch_size=16, eval_every=2,
                        checkpoint_every=3)
    return cfg


def _kill_after(monkeypatch, pretrain, method, when):
    """Make ``Run.<method>`` raise :class:`Killed` once, after it has run,
    when ``when(run)`` holds"""
    original = getattr(pretrain.Run, method)
    fired = []

    def wrapper(self, *a, **k):
        out = original(self, *a, **k)
        if not fired and when(self):
            fired.append(True)
            raise Killed(method)
        return out
    monkeypatch.setattr(pretrain.Run, method, wrapper)
    return fired


@pytest.mark.slow
def test_resume_after_stop_and_kill_continues_the_run(
        tmp_path, monkeypatch, h5_arrays, sims_script):
    """lam_tiny: a run stopped by its time limit, then killed between an
    evaluation and the next checkpoint, resumes twice and ends where an
    uninterrupted run ends: same step counter, no duplicate log rows, the
    same validation NMSE at every evaluation, bit-identical weights"""
    pretrain = sims_script("pretrain")
    cfg = _tiny_config()

    def run(out, *flags):
        _run(pretrain, tmp_path, monkeypatch, cfg, tmp_path / out, *flags)

    run("full")
    run("cut", "--max-minutes", "0")              # stops after one step
    with open(tmp_path / "cut" / "state.json", encoding="utf-8") as f:
        assert json.load(f)["step"] == 1
    # Killed after the log row of step 4 is written, before the checkpoint
    # of step 6 (the last checkpoint is step 3)
    fired = _kill_after(monkeypatch, pretrain, "_write_log",
                        lambda r: r.log.step.max() == 4)
    with pytest.raises(Killed):
        run("cut")
    assert fired
    assert pd.read_csv(tmp_path / "cut" / "log.csv").step.tolist() == [2, 4]
    assert _iterations(pretrain, tmp_path / "cut") == 3
    monkeypatch.undo()
    run("cut")                                    # resumes at step 3
    full, cut = (pd.read_csv(tmp_path / d / "log.csv") for d in ("full",
                                                                "cut"))
    assert cut.step.tolist() == full.step.tolist() == [2, 4, 6, 8]
    val = [c for c in full.columns if c.startswith("val_nmse_db/")]
    assert len(val) == 2
    pd.testing.assert_frame_equal(cut[val], full[val])
    # Steps 6 and 8 saw the same batches since the last resume
    np.testing.assert_array_equal(cut.train_nmse_db[2:],
                                  full.train_nmse_db[2:])
    with open(tmp_path / "cut" / "state.json", encoding="utf-8") as f:
        state = json.load(f)
    assert (state["step"], state["phase_start"]) == (8, 0)
    assert _iterations(pretrain, tmp_path / "cut") == 8
    w_full = _run_weights(pretrain, cfg, tmp_path / "full", h5_arrays)
    w_cut = _run_weights(pretrain, cfg, tmp_path / "cut", h5_arrays)
    assert w_full.keys() == w_cut.keys() and len(w_full) > 10
    for k, v in w_full.items():
        np.testing.assert_array_equal(v, w_cut[k], err_msg=k)
    # A finished run resumed again does nothing and keeps its log
    run("cut")
    assert pd.read_csv(tmp_path / "cut" / "log.csv").step.tolist() == \
        [2, 4, 6, 8]


@pytest.mark.slow
def test_earlier_checkpoint_format_is_migrated(tmp_path, monkeypatch,
                                               h5_arrays, sims_script):
    """A run directory written by the earlier pretrain.py (Keras weights,
    the optimizer variables in order, state.json) resumes from a checkpoint
    made of it; an incomplete one is an error naming the directory"""
    pretrain = sims_script("pretrain")
    cfg = _tiny_config()

    def run(out, *flags):
        _run(pretrain, tmp_path, monkeypatch, cfg, tmp_path / out, *flags)

    run("full")
    _kill_after(monkeypatch, pretrain, "_save", lambda r: r.step == 3)
    with pytest.raises(Killed):
        run("old")
    monkeypatch.undo()
    # Rewrite the run directory as the earlier code wrote it at step 3
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    r = pretrain.Run(pretrain.parse_args([str(path), "--out",
                                          str(tmp_path / "old")]))
    r.find_start()
    r.load_data()
    r.build_model()
    r.restore()
    assert r.step == 3
    r.model.save_weights(str(tmp_path / "old" / "model.weights.h5"))
    with open(tmp_path / "old" / "optimizer.npz", "wb") as f:
        np.savez(f, **{f"v{i}": v.numpy()
                       for i, v in enumerate(r.opt.variables)})
    shutil.rmtree(tmp_path / "old" / pretrain.CHECKPOINTS)
    # Incomplete: an error naming the directory, nothing overwritten
    moved = tmp_path / "optimizer.npz"
    os.rename(tmp_path / "old" / "optimizer.npz", moved)
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "old")):
        run("old")
    os.rename(moved, tmp_path / "old" / "optimizer.npz")
    run("old")                                    # migrated, then resumed
    assert sorted(os.listdir(tmp_path / "old")) == [
        pretrain.CHECKPOINTS, "log.csv", "state.json"]
    full, old = (pd.read_csv(tmp_path / d / "log.csv") for d in ("full",
                                                                "old"))
    assert old.step.tolist() == [2, 4, 6, 8]
    pd.testing.assert_frame_equal(old.drop(columns=["elapsed_s",
                                                    "train_nmse_db"]),
                                  full.drop(columns=["elapsed_s",
                                                     "train_nmse_db"]))
    w_full = _run_weights(pretrain, cfg, tmp_path / "full", h5_arrays)
    w_old = _run_weights(pretrain, cfg, tmp_path / "old", h5_arrays)
    for k, v in w_full.items():
        np.testing.assert_array_equal(v, w_old[k], err_msg=k)
    # state.json without any checkpoint: an error, not a silent restart
    shutil.rmtree(tmp_path / "old" / pretrain.CHECKPOINTS)
    with pytest.raises(FileNotFoundError, match="checkpoint is missing"):
        run("old")
