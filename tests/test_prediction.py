"""Channel prediction: the Wiener limit, AR fitting, sample-and-hold on Sionna's TDL, bad inputs"""

import numpy as np
import pytest

from lasco_sionna.channels import BSArray, Numerology, get_environment
from lasco_sionna.prediction import (ARPredictor, GRUPredictor,
                                     KalmanPredictor, PronyPredictor,
                                     SampleAndHold, TransformerPredictor,
                                     WienerPredictor, entry_windows,
                                     environment_at_speed, evaluate_predictors,
                                     jakes_correlation,
                                     linear_predictor_nmse, noisy_reports,
                                     report_sequences, sliding_windows,
                                     train_predictor, wiener_nmse)

PERIOD = 1e-3        # report period [s] of the TDL tests
SPEED_KMH = 30.0     # f_D = 97.3 Hz at 3.5 GHz: f_D * PERIOD ~ 0.1


@pytest.fixture(scope="module")
def tdl(tmp_path_factory):
    """Unnormalised TDL-A sequences (E|h|^2 = 1 per entry) and f_D"""
    env = environment_at_speed("tdl-a", SPEED_KMH,
                               numerology=Numerology(fft_size=16),
                               bs_array=BSArray(num_cols=4), normalize=False)
    ds = report_sequences(env, 400, 8, report_period=PERIOD, seed=3,
                          cache_dir=str(tmp_path_factory.mktemp("tdl")),
                          progress=False)
    return ds.as_matrix(time_step=None), env.max_doppler


def ratio_and_se(err, ref):
    """Pooled NMSE sum(err)/sum(ref) over independent UEs and its standard error (delta method)"""
    nmse = err.sum() / ref.sum()
    se = np.std(err - nmse * ref, ddof=1) / (np.sqrt(len(err)) * ref.mean())
    return nmse, se


def ar2_process(a, num_seq=64, num_steps=200, seed=0):
    """Complex AR(2) sequences [num_seq, num_steps, 2, 4], unit innovations"""
    rng = np.random.default_rng(seed)
    w = (rng.standard_normal((num_seq, num_steps + 100, 2, 4))
         + 1j * rng.standard_normal((num_seq, num_steps + 100, 2, 4))) / 2**.5
    x = np.zeros_like(w)
    for t in range(2, w.shape[1]):
        x[:, t] = a[0] * x[:, t - 1] + a[1] * x[:, t - 2] + w[:, t]
    return x[:, 100:]


def test_tdl_environment_registered_with_doppler():
    env = get_environment("tdl-c", min_speed=10.0, max_speed=10.0)
    assert env.max_doppler == pytest.approx(10.0 * 3.5e9 / 299792458.0)
    assert env.config()["params"]["model"] == "C"


def test_wiener_limit_matches_closed_form_for_jakes(tdl):
    x, fd = tdl
    # One past sample: the closed form is 1 - J0^2 exactly
    rho = jakes_correlation(np.arange(4), fd, PERIOD)
    assert wiener_nmse(rho, 1, 3) == pytest.approx(1 - rho[1:] ** 2, rel=1e-9)
    # The Wiener predictor with the true J0 on Sionna's TDL: the pooled NMSE
    # over 400 independent UEs matches the closed form within 4 standard
    # errors of the estimate
    L, H = 4, 3
    pred = WienerPredictor.jakes(fd, PERIOD, L, H)
    limit = wiener_nmse(jakes_correlation(np.arange(L + H), fd, PERIOD), L, H)
    np.testing.assert_allclose(pred.nmse(), limit, rtol=1e-9)
    hist, fut = x[:, :L], x[:, L:L + H]
    err = np.abs(fut - pred(hist).numpy()) ** 2
    for j in range(H):
        nmse, se = ratio_and_se(err[:, j].sum((1, 2)),
                                (np.abs(fut[:, j]) ** 2).sum((1, 2)))
        assert abs(nmse - limit[j]) < 4 * se, (j, nmse, limit[j], se)
    # and it beats sample-and-hold, whose closed form is 2(1 - J0)
    hold = linear_predictor_nmse(np.eye(1, L)[None].repeat(H, 0)[:, 0],
                                 jakes_correlation(np.arange(L + H), fd,
                                                   PERIOD))
    np.testing.assert_allclose(hold, 2 * (1 - rho[1:]), rtol=1e-9)
    assert np.all(limit < hold)


def test_sample_and_hold_matches_jakes_on_tdl(tdl):
    x, fd = tdl
    H = 6
    fut = x[:, 1:1 + H]
    err = np.abs(fut - SampleAndHold(H)(x[:, :1]).numpy()) ** 2
    theory = 2 * (1 - jakes_correlation(np.arange(1, H + 1), fd, PERIOD))
    for j in range(H):
        # 400 independent UEs: the pooled estimate is within 4 standard
        # errors of 2(1 - J0(2 pi f_D j T)) unless the model is not Jakes
        nmse, se = ratio_and_se(err[:, j].sum((1, 2)),
                                (np.abs(fut[:, j]) ** 2).sum((1, 2)))
        assert abs(nmse - theory[j]) < 4 * se, (j, nmse, theory[j], se)
        assert se < 0.1 * theory[j]


def test_ar_fit_recovers_ar_coefficients():
    p1, p2 = 0.9 * np.exp(0.4j), 0.7 * np.exp(-1.0j)
    a = np.array([p1 + p2, -p1 * p2])
    x = ar2_process(a)
    # 64 x 198 windows x 8 entries: LS standard error ~ 1/sqrt(1e5) ~ 0.003
    for mode in ("shared", "tap"):
        c = ARPredictor(x, 2, horizon=2, mode=mode).coefficients.numpy()
        if mode == "shared":
            np.testing.assert_allclose(c[0], a, atol=0.02)
            # Two steps ahead: x_{t+2} = (a1^2 + a2) x_t + a1 a2 x_{t-1} + ...
            np.testing.assert_allclose(c[1], [a[0] ** 2 + a[1], a[0] * a[1]],
                                       atol=0.03)
        else:  # every delay tap of an i.i.d.-entry AR process has the same AR
            np.testing.assert_allclose(c[:, 0], np.tile(a, (4, 1)), atol=0.05)
    # Kalman with noiseless reports reduces to the AR(2) recursion
    k = KalmanPredictor(x, 2, 6, mode="shared")
    np.testing.assert_allclose(k.ar, a, atol=0.02)
    np.testing.assert_allclose(k.coefficients.numpy()[0, :2], a, atol=0.02)
    np.testing.assert_allclose(k.coefficients.numpy()[0, 2:], 0, atol=0.01)


def test_prony_is_exact_on_exponentials():
    t = np.arange(10)
    z = np.array([np.exp(0.3j), 0.95 * np.exp(-0.7j)])
    amp = np.random.default_rng(0).standard_normal((2, 3, 5)) + 0j
    x = np.einsum("mt,mac->tac", z[:, None] ** t[None], amp)
    pred = PronyPredictor(2, horizon=2, regularization=0.0)(x[None, :8])
    np.testing.assert_allclose(pred.numpy()[0], x[8:], atol=1e-3)


def test_noisy_reports_have_the_stated_snr():
    h = (np.random.default_rng(1).standard_normal((50, 4, 8, 16))
         + 0j).astype(np.complex64)
    y, no = noisy_reports(h, 10.0, seed=5)
    snr = np.mean(np.abs(h) ** 2) / np.mean(np.abs(y.numpy() - h) ** 2)
    assert 10 * np.log10(snr) == pytest.approx(10.0, abs=0.1)
    assert no.shape == (50, 1, 1, 1)


def test_gru_predictor_shapes_and_hold_at_init():
    x = (np.random.default_rng(2).standard_normal((3, 5, 4, 8))
         + 1j).astype(np.complex64)
    y = GRUPredictor(horizon=2, units=4)(x).numpy()
    assert y.shape == (3, 2, 4, 8)
    np.testing.assert_allclose(y, np.repeat(x[:, -1:], 2, 1), atol=1e-5)


def test_transformer_predictor_shapes_and_hold_at_init():
    x = (np.random.default_rng(2).standard_normal((2, 3, 5, 4, 8))
         + 1j).astype(np.complex64)
    model = TransformerPredictor(horizon=3, d_model=8, num_heads=2,
                                 num_layers=1, ff_dim=16)
    y = model(x).numpy()
    assert y.shape == (2, 3, 3, 4, 8) and y.dtype == np.complex64
    # The head starts at zero: sample-and-hold
    np.testing.assert_allclose(y, np.repeat(x[:, :, -1:], 3, 2), atol=1e-5)
    # Entries are independent sequences: one entry's history does not
    # move another entry's prediction
    model._head.kernel.assign(np.random.default_rng(3).standard_normal(
        model._head.kernel.shape) * 0.1)
    x2 = x.copy()
    x2[..., 1, 2] *= 3.0
    y, y2 = model(x).numpy(), model(x2).numpy()
    mask = np.ones((4, 8), bool)
    mask[1, 2] = False
    np.testing.assert_allclose(y2[..., mask], y[..., mask], atol=1e-5)
    assert np.abs(y2[..., 1, 2] - y[..., 1, 2]).max() > 1e-3


def test_transformer_is_causal():
    model = TransformerPredictor(horizon=1, d_model=8, num_heads=2,
                                 num_layers=2, ff_dim=16)
    model(np.ones((1, 6, 1, 1), np.complex64))
    feat = np.random.default_rng(4).standard_normal((5, 6, 2)) \
        .astype(np.float32)
    for t in range(6):
        changed = feat.copy()
        changed[:, t] += 1.0
        a, b = model.tokens(feat).numpy(), model.tokens(changed).numpy()
        # Token s sees reports 0..s only: earlier tokens do not move
        np.testing.assert_allclose(b[:, :t], a[:, :t], atol=1e-6)
        assert np.abs(b[:, t:] - a[:, t:]).min(axis=-1).max() > 1e-4


def test_transformer_keras_round_trip(tmp_path):
    keras = pytest.importorskip("keras")
    model = TransformerPredictor(horizon=2, d_model=8, num_heads=2,
                                 num_layers=1, ff_dim=16, max_history=6)
    x = (np.random.default_rng(5).standard_normal((3, 6, 2, 4))
         + 1j * np.random.default_rng(6).standard_normal((3, 6, 2, 4))) \
        .astype(np.complex64)
    model(x)
    model._head.kernel.assign(np.random.default_rng(7).standard_normal(
        model._head.kernel.shape) * 0.1)
    inp = keras.Input((6, 2, 4), dtype="complex64")
    keras.Model(inp, model(inp)).save(tmp_path / "t.keras")
    loaded = keras.models.load_model(tmp_path / "t.keras")
    np.testing.assert_allclose(loaded(x).numpy(), model(x).numpy(),
                               atol=1e-6)
    again = TransformerPredictor.from_config(model.get_config())
    assert again.get_config() == model.get_config()
    # Weights alone, as the shipped models are stored
    model.save_weights(tmp_path / "t.weights.h5")
    again(x[:1])
    again.load_weights(tmp_path / "t.weights.h5")
    np.testing.assert_allclose(again(x).numpy(), model(x).numpy(), atol=1e-6)


def test_trained_predictors_beat_hold_on_an_ar1_process():
    # x_t = a x_{t-1} + w_t with a rotating phase: the best one-step
    # prediction a x_{t-1} has NMSE 1 - |a|^2 = 0.04 (-14 dB), sample-and-hold
    # 2 (1 - Re a) = 0.28 (-5.5 dB); the tiny models reach 4.6 / 4.2 dB
    # better than sample-and-hold after 600 steps
    a = 0.98 * np.exp(0.5j)
    x = ar2_process([a, 0.0], num_seq=48, num_steps=40, seed=8)
    hist, fut = sliding_windows(x, 6, 1)
    hist, fut = entry_windows(hist), entry_windows(fut)
    hist, fut = hist.astype(np.complex64), fut.astype(np.complex64)
    n_val = len(hist) // 10
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    for model in (TransformerPredictor(1, d_model=8, num_heads=2,
                                       num_layers=1, ff_dim=16),
                  GRUPredictor(1, units=8)):
        train_predictor(model, hist[n_val:], fut[n_val:], hist[:n_val],
                        fut[:n_val], steps=600, batch_size=64,
                        learning_rate=1e-2, eval_every=200)
        nmse = evaluate_predictors({"model": model,
                                    "hold": SampleAndHold(1)},
                                   hist[:n_val], fut[:n_val])
        gain_db = 10 * np.log10(nmse["hold"][0] / nmse["model"][0])
        assert gain_db > 3.0, (type(model).__name__, gain_db)


def test_bad_inputs_name_the_value():
    x = np.ones((2, 6, 4, 8), np.complex64)
    ar = ARPredictor(np.ones((3, 8, 4, 8), np.complex64) * np.arange(8)[
        None, :, None, None], 4, horizon=1, mode="element")
    with pytest.raises(ValueError, match="history_length=2.*at least 4"):
        ar(x[:, :2])
    with pytest.raises(ValueError, match="history_length=3.*at least 4"):
        PronyPredictor(2)(x[:, :3])
    for make in (lambda: SampleAndHold(0), lambda: GRUPredictor(0),
                 lambda: TransformerPredictor(0),
                 lambda: WienerPredictor.jakes(10.0, 5e-3, 4, 0)):
        with pytest.raises(ValueError, match="`horizon`.*got 0"):
            make()
    with pytest.raises(ValueError, match="`num_heads`=3 must divide "
                                         "`d_model`=8"):
        TransformerPredictor(1, d_model=8, num_heads=3)
    with pytest.raises(ValueError, match="`ff_dim`.*got 0"):
        TransformerPredictor(1, ff_dim=0)
    with pytest.raises(ValueError, match="history_length=6; this predictor "
                                         "takes at most max_history=4"):
        TransformerPredictor(1, d_model=8, num_heads=2, max_history=4)(x)
    with pytest.raises(ValueError, match="num_bs_ant=2.*built for "
                                         "num_bs_ant=4"):
        ar(x[:, :, :2])
    with pytest.raises(ValueError, match=r"got shape \(6, 4\)"):
        SampleAndHold(1)(x[0, :, :, 0])
    with pytest.raises(TypeError, match="complex"):
        SampleAndHold(1)(np.ones((2, 3, 4), np.float32))
    bad = x.copy()
    bad[1, 3, 2, 5] = np.nan
    with pytest.raises(ValueError, match=r"`history` contains 1 NaN/Inf.*"
                                         r"\(1, 3, 2, 5\)"):
        SampleAndHold(1)(bad)
    bad[1, 3, 2, 5] = np.inf
    with pytest.raises(ValueError, match="NaN/Inf"):
        GRUPredictor(1, units=2)(bad)
    with pytest.raises(ValueError, match="NaN/Inf"):
        TransformerPredictor(1, d_model=4, num_heads=1)(bad)
    with pytest.raises(TypeError, match="unexpected keyword"):
        SampleAndHold(1)(x, horizon=2)
    with pytest.raises(ValueError, match="shorter than history_length"):
        sliding_windows(x, 5, 2)
    with pytest.raises(ValueError, match="`speed_kmh`"):
        environment_at_speed("tdl-a", -3.0)
    with pytest.raises(ValueError, match="`time_model`='retrace' is for "
                                         "ray-traced environments; 'tdl-a'"):
        environment_at_speed("tdl-a", 30.0, time_model="retrace")
    with pytest.raises(ValueError, match="`time_model`='frozen' is not "
                                         "valid"):
        environment_at_speed("rt-florence", 30.0, time_model="frozen")
    with pytest.raises(ValueError, match="`ue_speed` must be > 0, got 0.0"):
        environment_at_speed("rt-florence", 0.0, time_model="retrace")
    with pytest.raises(ValueError, match="`report_period` must be a finite "
                                         "number > 0, got -0.001"):
        report_sequences(environment_at_speed("tdl-a", 3.0), 4, 2, -1e-3)


def test_train_predictor_tiny_config(sims_script, tmp_path, monkeypatch):
    monkeypatch.setenv("LASCO_SIONNA_CACHE", str(tmp_path / "cache"))
    script = sims_script("train_predictor")
    import yaml  # noqa: PLC0415
    with open("sims/configs/predictor_tiny.yaml", encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    cfg.update(steps=4, eval_every=2, num_sequences=20)
    res = script.run(cfg, str(tmp_path / "out"))
    assert set(res["test_nmse_db"]) == {"gru", "hold"}
    assert (tmp_path / "out" / "gru-tiny.weights.h5").exists()
    with pytest.raises(ValueError, match="unknown config keys.*'stepz'"):
        script.run({**cfg, "stepz": 1}, str(tmp_path / "x"))


def test_train_predictor_resumes_after_a_stop(sims_script, tmp_path,
                                              monkeypatch):
    monkeypatch.setenv("LASCO_SIONNA_CACHE", str(tmp_path / "cache"))
    script = sims_script("train_predictor")
    from lasco_sionna.models import TrainingStopped  # noqa: PLC0415
    import yaml  # noqa: PLC0415
    with open("sims/configs/transformer_tiny.yaml", encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    cfg.update(steps=6, eval_every=2, num_sequences=20)
    whole = script.run(cfg, str(tmp_path / "whole"))
    assert set(whole["test_nmse_db"]) == {"transformer", "hold"}
    # Stopped after its first step (time limit 0), then resumed
    with pytest.raises(TrainingStopped, match="stopped at step 1 of 6"):
        script.run(cfg, str(tmp_path / "split"), max_minutes=0)
    assert not (tmp_path / "split" / "log.csv").exists()
    split = script.run(cfg, str(tmp_path / "split"))
    np.testing.assert_allclose(split["test_nmse_db"]["transformer"],
                               whole["test_nmse_db"]["transformer"],
                               rtol=1e-6)
    logs = [np.loadtxt(tmp_path / d / "log.csv", delimiter=",", skiprows=1,
                       usecols=(0, 3)) for d in ("whole", "split")]
    np.testing.assert_allclose(logs[1], logs[0], rtol=1e-6)
    record = __import__("json").loads(
        (tmp_path / "split" / "transformer-tiny.json").read_text())
    assert record["model"] == "transformer"
    assert record["config"]["d_model"] == 8
    with pytest.raises(ValueError, match="checkpoint of another run"):
        script.run({**cfg, "learning_rate": 0.1}, str(tmp_path / "split"))
    with pytest.raises(ValueError, match=r"config keys \['units'\] are not "
                                         "parameters of model 'transformer'"):
        script.run({**cfg, "units": 4}, str(tmp_path / "x"))


def constant_reports(value, num_train, num_reports=6):
    """A report-sequence dataset whose every entry is ``value`` (2 antennas, 3 subcarriers)"""
    from lasco_sionna.channels import ChannelDataset  # noqa: PLC0415
    n = num_train + 2
    h = np.full([n, 1, 1, 1, 2, num_reports, 3], value, np.complex64)
    splits = {"train": np.arange(num_train),
              "validation": np.array([num_train]),
              "test": np.array([num_train + 1])}
    return ChannelDataset(h, np.zeros(n), {}, {}, splits,
                          split_rule={"rule": "sample"})


def test_pooled_windows_come_equally_from_every_environment(sims_script):
    script = sims_script("train_predictor")
    cfg = {"history_length": 3, "horizon": 1}    # noise-free: values tell
    # Environment "a" (4 training UEs) holds 1 / 1j, "b" (10 UEs) 2 / 2j at
    # its two speeds: 3 windows per UE and speed, 6 entries per window
    datasets = {"a": {3.0: constant_reports(1, 4),
                      30.0: constant_reports(1j, 4)},
                "b": {3.0: constant_reports(2, 10),
                      30.0: constant_reports(2j, 10)}}
    hist, fut = script.pooled_environments(datasets, "train", cfg, 0, 60)
    assert hist.shape == (60, 3, 1, 1) and fut.shape == (60, 1, 1, 1)
    values, counts = np.unique(hist[:, 0, 0, 0], return_counts=True)
    per_env = {v: counts[np.abs(values) == v].sum() for v in (1, 2)}
    assert per_env == {1: 30, 2: 30}
    assert set(values) == {1, 1j, 2, 2j}         # both speeds of each
    np.testing.assert_array_equal(hist[:, -1], fut[:, 0])
    # More than "a" has (144 entries): as many from "b" as from "a"
    hist, _ = script.pooled_environments(datasets, "train", cfg, 0, 1000)
    assert np.sum(np.abs(hist[:, 0, 0, 0]) == 1) == 144
    assert np.sum(np.abs(hist[:, 0, 0, 0]) == 2) == 144
    # Whole windows need equal numbers (24 vs 60)
    with pytest.raises(ValueError, match=r"have \[24, 60\] train windows; "
                                         "set `entry_windows`"):
        script.pooled_environments(datasets, "train", cfg, 0)
    # One environment: the single-environment pooling itself
    for entries in (None, 50):
        for a, b in zip(
                script.pooled_environments({"b": datasets["b"]}, "train",
                                           {**cfg, "snr_db": 20.0}, 3,
                                           entries),
                script.pooled(datasets["b"], "train",
                              {**cfg, "snr_db": 20.0}, 3, entries)):
            np.testing.assert_array_equal(a, b)


def test_train_predictor_across_environments(sims_script, tmp_path,
                                             monkeypatch):
    monkeypatch.setenv("LASCO_SIONNA_CACHE", str(tmp_path / "cache"))
    script = sims_script("train_predictor")
    import yaml  # noqa: PLC0415
    with open("sims/configs/transformer_multi_tiny.yaml",
              encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    cfg.update(steps=4, eval_every=2, num_sequences=20)
    res = script.run(cfg, str(tmp_path / "out"))
    # Test NMSE per environment and speed, on each environment's test UEs
    assert list(res["test_nmse_db"]) == ["tdl-a", "cdl-c"]
    for label in ("tdl-a", "cdl-c"):
        per_speed = res["test_nmse_db_per_environment"][label]
        assert list(per_speed) == ["3.0", "30.0"]
        assert set(per_speed["3.0"]) == {"transformer", "hold"}
        assert len(per_speed["30.0"]["hold"]) == 2             # horizon
        assert res["test_nmse_db"][label]["hold"] == \
            [per_speed["3.0"]["hold"], per_speed["30.0"]["hold"]]
    # Other environments, other channels
    assert res["test_nmse_db"]["tdl-a"]["hold"] != \
        res["test_nmse_db"]["cdl-c"]["hold"]
    record = __import__("json").loads(
        (tmp_path / "out" / "transformer-multi-tiny.json").read_text())
    assert record["test_nmse_db_per_environment"] == \
        res["test_nmse_db_per_environment"]
    assert "test_nmse_db_per_speed" not in record
    bad = {k: v for k, v in cfg.items() if k != "environments"}
    for wrong, message in (
            ({**cfg, "environment": "tdl-a"},
             "exactly one of `environment` and `environments`, got both"),
            (bad, "exactly one of `environment` and `environments`, got "
                  "neither"),
            ({**cfg, "environments": ["tdl-a", "tdl-x"]},
             "`environments`='tdl-x' is not valid"),
            ({**cfg, "environments": ["tdl-a", {"name": "tdl-a"}]},
             "environment 'tdl-a' is listed twice"),
            ({**cfg, "environments": []}, "must be a non-empty list"),
            ({**cfg, "environments": "tdl-a"}, "must be a non-empty list"),
            ({**cfg, "environments": [{"delay_spread": 1e-7}]},
             "environment spec must be a name or a dict with 'name'"),
            ({**cfg, "params": {"delay_spread": 1e-7}},
             "`params` applies to `environment` only")):
        with pytest.raises(ValueError, match=message):
            script.run(wrong, str(tmp_path / "x"))
    with pytest.raises(ValueError, match="unknown config keys.*'environmnts'"):
        script.run({**bad, "environmnts": ["tdl-a"]}, str(tmp_path / "x"))


def test_bench_prediction_ue_travel_per_sequence(sims_script):
    # Doppler over frozen geometry (ray-traced cities) holds over a few
    # wavelengths: 16 reports of 1 ms at 120 km/h, 3.5 GHz: 0.533 m = 6.2
    bench = sims_script("bench_prediction")
    t = bench.travel_wavelengths(120.0, 16, 1e-3, 3.5e9)
    np.testing.assert_allclose(t, 120 / 3.6 * 16e-3 * 3.5e9 / 299792458.0)
    assert 6.0 < t < 6.5 < bench.MAX_FROZEN_WAVELENGTHS
    # The default 5 ms period at 120 km/h is beyond it
    assert bench.travel_wavelengths(120.0, 16, 5e-3, 3.5e9) > \
        bench.MAX_FROZEN_WAVELENGTHS


def test_compare_time_models_pairs_ues_and_scales_to_the_first_report(
        sims_script):
    compare = sims_script("compare_time_models")

    class Data:  # the extras shared_ues reads
        def __init__(self, pos, vel):
            self.extras = {"ue_position": np.asarray(pos, np.float32),
                           "ue_velocity": np.asarray(vel, np.float32)}
    pos = np.arange(12.0).reshape(4, 3)
    vel = np.ones((4, 3))
    moved = vel.copy()
    moved[2] = -1.0
    # Retrace replaced UE 0 and turned UE 2; the rest in another order
    common, ia, ib = compare.shared_ues(
        Data(pos, vel), Data(pos[[3, 2, 1]], moved[[3, 2, 1]]))
    assert common == 3
    np.testing.assert_array_equal(ia, [1, 3])
    np.testing.assert_array_equal(ib, [2, 0])
    rng = np.random.default_rng(0)
    h = rng.standard_normal((2, 5, 4, 8)) + 1j * rng.standard_normal(
        (2, 5, 4, 8))
    # A per-UE scale is not a drift; a change at report 3 is
    np.testing.assert_allclose(compare.drift_nmse(3.0 * h, h), 0, atol=1e-12)
    other = h.copy()
    other[:, 3] *= -1
    nmse = compare.drift_nmse(other, h)
    np.testing.assert_allclose(nmse[:, 3], 4.0, rtol=1e-12)
    np.testing.assert_allclose(np.delete(nmse, 3, axis=1), 0, atol=1e-12)
