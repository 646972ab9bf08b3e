#
# SPDX-License-Identifier: Apache-2.0
#
"""sims/pretrain.py: a second phase continues a finished first phase; a run starts from another config's run"""

import importlib.util
import json
import os
import sys

import h5py
import numpy as np
import pandas as pd
import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _pretrain():
    spec = importlib.util.spec_from_file_location(
        "pretrain", os.path.join(ROOT, "sims", "pretrain.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _config(name, num_samples, steps, lr, **extra):
    return {"name": name, "model": "lam", "seed": 0, "num_ant": 32,
            "num_taps": 32, "numerology": {"fft_size": 256},
            "bs_array": {"num_cols": 32},
            "encoder": {"compression": 16, "bits_per_measurement": 4,
                        "seed": 0},
            "model_params": {"d_model": 8, "num_layers": 1, "num_heads": 2,
                             "ff_dim": 16},
            "sources": [{"environment": "cdl-a",
                         "num_samples": num_samples,
                         "params": {"delay_spread": 100e-9}}],
            "max_validation": 8,
            "optim": {"lr": lr, "warmup": 1, "steps": steps,
                      "batch_size": 8, "eval_every": steps,
                      "checkpoint_every": steps},
            **extra}


def _weights(path):
    out = {}
    with h5py.File(path) as f:
        f.visititems(lambda n, o: out.update({n: o[()]})
                     if isinstance(o, h5py.Dataset) else None)
    return out


def test_continue_from(tmp_path, monkeypatch):
    monkeypatch.setenv("LASCO_SIONNA_CACHE", str(tmp_path / "cache"))
    pretrain = _pretrain()
    runs = tmp_path / "runs"

    def run(config, *flags):
        path = tmp_path / f"{config['name']}.yaml"
        path.write_text(yaml.safe_dump(config))
        monkeypatch.setattr(sys, "argv", [
            "pretrain.py", str(path), "--out", str(runs / config["name"]),
            *flags])
        pretrain.main()

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
    run(phase2, "--max-minutes", "0")             # killed in phase 2 ...
    run(phase2)                                   # ... and resumed
    with open(runs / "p2" / "state.json", encoding="utf-8") as f:
        state = json.load(f)
    assert state == {"step": 5, "elapsed_s": state["elapsed_s"],
                     "phase_start": 3}
    log = pd.read_csv(runs / "p2" / "log.csv")
    assert log.step.tolist() == [3, 5]            # phase 1's log carried on
    assert log.elapsed_s.is_monotonic_increasing
    w1, w2 = _weights(runs / "p1" / "model.weights.h5"), \
        _weights(runs / "p2" / "model.weights.h5")
    assert w1.keys() == w2.keys()
    for k, v in w1.items():
        np.testing.assert_array_equal(v, w2[k], err_msg=k)
    # init_from a config file: another encoder (CR 1/32), the same model
    other = _config("p3", 64, 2, 0.0, init_from="p1.yaml")
    other["encoder"]["compression"] = 32
    run(other)
    w3 = _weights(runs / "p3" / "model.weights.h5")
    for k, v in w1.items():
        np.testing.assert_array_equal(v, w3[k], err_msg=k)
    other = _config("p4", 64, 2, 0.0, init_from="p1.yaml")
    other["model_params"]["num_layers"] = 2
    with pytest.raises(ValueError, match="different `model_params`"):
        run(other)
