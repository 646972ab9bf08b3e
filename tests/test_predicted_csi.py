"""The predicted-CSI path: a no-op without delay, exact on static channels, better than hold in the link"""

import numpy as np
import pandas as pd
import pytest
import tensorflow as tf

from lasco_sionna.channels import Numerology
from lasco_sionna.csi import get_csi_feedback
from lasco_sionna.link import LinkConfig, MUMIMOOFDMLink
from lasco_sionna.prediction import (ARPredictor, LookupPredictor,
                                     PredictedCSI, SampleAndHold,
                                     get_predictor)

NT, FC = 4, 32
CTX = {"environment": "tdl-a", "numerology": {"fft_size": FC},
       "bs_array": {"num_cols": NT}}


def ar2_sequences(num, steps, a=(1.6, -0.8), seed=0, shape=(NT, FC)):
    """Stationary complex AR(2) sequences [num, steps, *shape]"""
    rng = np.random.default_rng(seed)
    burn = 200
    w = (rng.standard_normal((num, steps + burn) + shape)
         + 1j * rng.standard_normal((num, steps + burn) + shape)) / 2 ** .5
    x = np.zeros_like(w)
    for t in range(2, w.shape[1]):
        x[:, t] = a[0] * x[:, t - 1] + a[1] * x[:, t - 2] + w[:, t]
    x = x[:, burn:]
    return (x / np.sqrt(np.mean(np.abs(x) ** 2))).astype(np.complex64)


@pytest.mark.parametrize("order", ["predict_then_compress",
                                   "compress_then_predict"])
def test_zero_delay_is_the_inner_path(order):
    inner = get_csi_feedback({"name": "quantized", "bit_budget": 400,
                              "num_taps": 4}, NT, FC)
    hist = ar2_sequences(3, 5)
    csi = get_csi_feedback({"name": "predicted", "inner": {
        "name": "quantized", "bit_budget": 400, "num_taps": 4},
        "predictor": "ar", "order": order, "history_length": 5,
        "horizon": 0, **CTX}, NT, FC)
    assert csi.history_length == 5 and csi.payload_bits == inner.payload_bits
    want = inner(hist[:, -1]).numpy()
    np.testing.assert_array_equal(csi(hist).numpy(), want)
    np.testing.assert_array_equal(csi.decode(csi.encode(hist)).numpy(), want)


def test_static_channel_prediction_is_the_last_report():
    # Fitted on static TDL sequences (speed 0), applied to a static history
    csi = get_csi_feedback({"name": "predicted", "predictor": "ar",
                            "history_length": 4, "horizon": 2,
                            **{**CTX, "environment": {
                                "name": "tdl-a", "min_speed": 0.0,
                                "max_speed": 0.0}}}, NT, FC)
    h = ar2_sequences(6, 1)[:, :1]
    hist = np.repeat(h, 4, axis=1)
    np.testing.assert_allclose(csi(hist).numpy(), h[:, 0], atol=1e-4)
    hold = PredictedCSI(get_csi_feedback("perfect", NT, FC),
                        SampleAndHold(3), 4, 3)
    np.testing.assert_array_equal(hold(hist).numpy(), h[:, 0])


class _SequenceChannel:
    """A fixed batch of report sequences as the link's channel"""

    def __init__(self, x, num_users):
        # [num, T, NT, FC] -> [B, K, 1, 1, NT, T, FC]
        b = x.shape[0] // num_users
        x = x[:b * num_users].reshape((b, num_users) + x.shape[1:])
        self.h = tf.constant(np.transpose(x, (0, 1, 3, 2, 4))[:, :, None,
                                                               None])

    def __call__(self, batch_size):
        return self.h[:batch_size]


def test_ar_predictor_beats_hold_in_the_link():
    L, d, k = 4, 2, 2
    train = ar2_sequences(64, 12, seed=1)
    test = ar2_sequences(16, L + d, seed=2)
    channel = _SequenceChannel(test, k)
    errors = {}
    for name, pred in (("hold", SampleAndHold(d)),
                       ("ar", ARPredictor(train, 2, d, mode="element"))):
        csi = PredictedCSI(get_csi_feedback("perfect", NT, FC), pred, L, d)
        link = MUMIMOOFDMLink(channel, Numerology(fft_size=FC), NT,
                              LinkConfig(num_users=k, feedback_delay=d),
                              csi_feedback=csi)
        _, _, stats = link.run(8, 10.0)
        errors[name] = float(tf.reduce_sum(stats["csi_error"])
                             / tf.reduce_sum(stats["csi_power"]))
    # AR(2) with poles 0.8 +- 0.4j: hold loses a lot, the fitted AR(2) is
    # the MMSE predictor (innovation-limited)
    assert 10 * np.log10(errors["ar"]) < 10 * np.log10(errors["hold"]) - 3
    # The link asks for history_length + feedback_delay snapshots
    short = _SequenceChannel(test[:, :L + d - 1], k)
    link = MUMIMOOFDMLink(short, Numerology(fft_size=FC), NT,
                          LinkConfig(num_users=k, feedback_delay=d),
                          csi_feedback=csi)
    with pytest.raises(ValueError, match="history_length=4 needs 6 channel"):
        link.run(8, 10.0)


def test_lookup_predictor_finds_its_training_windows():
    x = ar2_sequences(4, 8, seed=3, shape=(1, 2))
    pred = LookupPredictor(x, 3, 2, num_atoms=10 ** 6, chunk_size=5)
    assert pred.num_atoms == 4 * 4 * 2
    # A training history maps to its own future
    np.testing.assert_allclose(pred(x[:, 1:4]).numpy(), x[:, 4:6],
                               rtol=1e-4, atol=1e-5)


def test_bad_configs_name_the_value():
    def make(**kw):
        return get_csi_feedback({"name": "predicted", "history_length": 4,
                                 "horizon": 1, **CTX, **kw}, NT, FC)
    with pytest.raises(ValueError, match="`order`='later' is not valid"):
        make(order="later")
    with pytest.raises(ValueError, match="unknown predictor 'oracle'"):
        make(predictor="oracle")
    with pytest.raises(ValueError, match=r"unknown parameters \['taps'\]"):
        make(predictor={"name": "ar", "taps": 3})
    with pytest.raises(ValueError, match="needs at least 6 past reports, "
                                         "history_length=4"):
        make(predictor={"name": "ar", "order": 6})
    with pytest.raises(ValueError, match="cannot itself be 'predicted'"):
        make(inner={"name": "predicted"})
    with pytest.raises(ValueError, match="needs `horizon`"):
        get_csi_feedback({"name": "predicted"}, NT, FC)
    with pytest.raises(ValueError, match="needs the `environment`"):
        get_csi_feedback({"name": "predicted", "horizon": 1}, NT, FC)
    with pytest.raises(ValueError, match="`horizon` must be"):
        make(horizon=-1)
    with pytest.raises(ValueError, match="no known maximum Doppler"):
        make(predictor="wiener", environment="cdl-c")
    with pytest.raises(ValueError, match="is fitted on training sequences"):
        get_predictor("ar", 4, 1)
    csi = make(predictor="hold")
    bad = np.full((2, 4, NT, FC), np.nan, np.complex64)
    with pytest.raises(ValueError, match="history"):
        csi(bad)
    with pytest.raises(ValueError, match=r"must end in dimensions \(4, 4, 32"):
        csi(np.zeros((2, 3, NT, FC), np.complex64))


def test_sweep_point_predicts_over_its_feedback_delay():
    from lasco_sionna.link.point import evaluate_point  # noqa: PLC0415
    point = {"environment": "tdl-a", "ue_speed_kmh": 60.0,
             "feedback_delay": 2, "num_snapshots": 6, "num_users": 2,
             "numerology": {"fft_size": 32}, "bs_array": {"num_cols": 4},
             "dataset_size": 24, "batch_size": 4, "max_mc_iter": 1,
             "rate_batches": 2, "ebno_db": 10.0, "seed": 1}
    aged = evaluate_point({**point, "csi": "perfect"})
    pred = evaluate_point({**point, "csi": {
        "name": "predicted", "predictor": "ar", "history_length": 4,
        "num_sequences": 40}})
    assert pred["feedback_bits_per_user"] == aged["feedback_bits_per_user"]
    assert pred["csi_nmse_db"] < aged["csi_nmse_db"] - 6
    assert pred["sum_rate"] > aged["sum_rate"]
    with pytest.raises(ValueError, match="`num_snapshots`=5 is fewer than "
                                         "the 6"):
        evaluate_point({**point, "num_snapshots": 5, "csi": {
            "name": "predicted", "predictor": "hold", "history_length": 4}})


def test_shipped_gru_predictor():
    from lasco_sionna.prediction import list_predictors, load_predictor  # noqa: PLC0415
    assert "gru-tdl-a" in list_predictors()
    model, record = load_predictor("gru-tdl-a")
    assert record["history_length"] == 8 and model.horizon == 4
    hist = ar2_sequences(2, 8)
    pred = get_predictor({"name": "gru", "model": "gru-tdl-a"}, 8, 2)
    assert tuple(pred(hist).shape) == (2, 4, NT, FC)
    # As the CSI path's predictor (no environment needed)
    csi = get_csi_feedback({"name": "predicted", "predictor": {
        "name": "gru", "model": "gru-tdl-a"}, "history_length": 8,
        "horizon": 2}, NT, FC)
    np.testing.assert_allclose(csi(hist).numpy(), pred(hist).numpy()[:, 1],
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="trained on histories of 8 reports"):
        get_predictor({"name": "gru", "model": "gru-tdl-a"}, 6, 2)
    with pytest.raises(ValueError, match="predicts 4 reports ahead"):
        get_predictor({"name": "gru", "model": "gru-tdl-a"}, 8, 5)
    with pytest.raises(ValueError, match="unknown trained predictor 'gru-x'"):
        get_predictor({"name": "gru", "model": "gru-x"}, 8, 1)


def _clarke(num, length, period, speed_kmh, seed, paths=24, fc=3.5e9):
    """[num, length, 2, 4] Clarke-model channels (sum of sinusoids, unit power), one report per ``period``"""
    rng = np.random.default_rng(seed)
    f_d = speed_kmh / 3.6 * fc / 299792458.0
    # [num, 1, 2, 4, paths]: an angle and a phase per path and entry
    theta = rng.uniform(0, 2 * np.pi, (num, 1, 2, 4, paths))
    phase = rng.uniform(0, 2 * np.pi, (num, 1, 2, 4, paths))
    t = (np.arange(length) * period)[None, :, None, None, None]
    h = np.exp(1j * (2 * np.pi * f_d * np.cos(theta) * t + phase))
    return (h.sum(-1) / np.sqrt(paths)).astype(np.complex64)


@pytest.mark.parametrize("name", __import__(
    "lasco_sionna.prediction", fromlist=["list_predictors"]).list_predictors())
def test_every_shipped_predictor_beats_hold_at_its_report_period(name):
    """Every shipped record loads (weights match their SHA-256) and, on a
    Clarke channel at 60 km/h and the record's report period (independent
    of its training data), predicts one report ahead better than
    sample-and-hold by >= 3 dB"""
    from lasco_sionna.prediction import load_predictor  # noqa: PLC0415
    model, record = load_predictor(name)
    length = record["history_length"] + 1
    h = _clarke(64, length, record["report_period"], 60.0, seed=3)
    pred = model(tf.constant(h[:, :-1])).numpy()[:, 0]
    power = np.mean(np.abs(h[:, -1]) ** 2)

    def nmse_db(x):
        return 10 * np.log10(np.mean(np.abs(x - h[:, -1]) ** 2) / power)
    assert nmse_db(pred) < nmse_db(h[:, -2]) - 3.0, (nmse_db(pred),
                                                     nmse_db(h[:, -2]))


def test_shipped_transformer_predictor():
    from lasco_sionna.prediction import (TransformerPredictor,  # noqa: PLC0415
                                         list_predictors, load_predictor)
    assert "transformer-tdl-a" in list_predictors()
    model, record = load_predictor("transformer-tdl-a")
    assert isinstance(model, TransformerPredictor)
    assert record["model"] == "transformer"
    assert record["history_length"] == 8 and model.horizon == 4
    hist = ar2_sequences(2, 8)
    pred = get_predictor({"name": "transformer",
                          "model": "transformer-tdl-a"}, 8, 2)
    assert tuple(pred(hist).shape) == (2, 4, NT, FC)
    # Trained: not sample-and-hold
    assert np.abs(pred(hist).numpy()[:, 0] - hist[:, -1]).max() > 1e-3
    csi = get_csi_feedback({"name": "predicted", "predictor": {
        "name": "transformer", "model": "transformer-tdl-a"},
        "history_length": 8, "horizon": 2}, NT, FC)
    np.testing.assert_allclose(csi(hist).numpy(), pred(hist).numpy()[:, 1],
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="trained on histories of 8 reports"):
        get_predictor({"name": "transformer", "model": "transformer-tdl-a"},
                      6, 2)
    with pytest.raises(ValueError, match="'transformer-tdl-a' is a "
                                         "'transformer' model, not a 'gru'"):
        get_predictor({"name": "gru", "model": "transformer-tdl-a"}, 8, 1)
    with pytest.raises(ValueError, match="'gru-tdl-a' is a 'gru' model"):
        get_predictor({"name": "transformer", "model": "gru-tdl-a"}, 8, 1)
    with pytest.raises(ValueError, match="predictor 'transformer' needs "
                                         "`model`"):
        get_predictor("transformer", 8, 1)


def test_shipped_multi_environment_transformer():
    from lasco_sionna.prediction import (TransformerPredictor,  # noqa: PLC0415
                                         list_predictors, load_predictor)
    assert "transformer-multi" in list_predictors()
    model, record = load_predictor("transformer-multi")
    assert isinstance(model, TransformerPredictor) and model.horizon == 4
    assert record["history_length"] == 8
    assert record["training"]["environments"] == ["tdl-a", "umi", "cdl-c"]
    # Test NMSE of every environment and speed, beating hold at horizon 1
    per_env = record["test_nmse_db_per_environment"]
    assert list(per_env) == ["tdl-a", "umi", "cdl-c"]
    for per_speed in per_env.values():
        assert list(per_speed) == ["3.0", "30.0", "60.0", "120.0"]
        for v in per_speed.values():
            assert v["transformer"][0] < v["hold"][0]
    hist = ar2_sequences(2, 8)
    pred = get_predictor({"name": "transformer",
                          "model": "transformer-multi"}, 8, 2)
    assert tuple(pred(hist).shape) == (2, 4, NT, FC)
    assert np.abs(pred(hist).numpy()[:, 0] - hist[:, -1]).max() > 1e-3


def test_measurement_noise_at_the_stated_snr():
    hold = PredictedCSI(get_csi_feedback("perfect", NT, FC),
                        SampleAndHold(1), 2, 1, snr_db=10.0)
    h = ar2_sequences(64, 1)
    hist = np.repeat(h, 2, axis=1)
    err = np.mean(np.abs(hold(hist).numpy() - h[:, 0]) ** 2) \
        / np.mean(np.abs(h) ** 2)
    assert 10 * np.log10(err) == pytest.approx(-10.0, abs=0.3)
    with pytest.raises(ValueError, match="`snr_db` must be finite"):
        PredictedCSI(get_csi_feedback("perfect", NT, FC), SampleAndHold(1),
                     2, 1, snr_db=float("nan"))


TDL_POINT = {"environment": "tdl-a", "ue_speed_kmh": 60.0, "num_users": 2,
             "num_snapshots": 6, "numerology": {"fft_size": 32},
             "bs_array": {"num_cols": 4}, "dataset_size": 24,
             "batch_size": 4, "max_mc_iter": 1, "rate_batches": 2,
             "ebno_db": 10.0}


def _link_sweep(tmp_path, name, grid, paired, **fixed):
    from lasco_sionna.sweep import parse_config, run_sweep  # noqa: PLC0415
    cfg = parse_config({
        "name": name, "output": str(tmp_path / name), "seed": 3,
        "evaluator": "lasco_sionna.link.point:evaluate_point",
        "fixed": {**TDL_POINT, **fixed}, "grid": grid, "paired": paired})
    return run_sweep(cfg, plots=False, progress=False)


def test_predictor_is_a_grid_key(tmp_path):
    from lasco_sionna.link.point import csi_spec, evaluate_point  # noqa: PLC0415
    ar = {"name": "ar", "order": 4}
    prediction = {"history_length": 4, "num_sequences": 40}
    table = _link_sweep(
        tmp_path, "predictor_grid",
        {"predictor": ["hold", ar], "feedback_delay": [0, 2]},
        ["predictor", "feedback_delay"], prediction=prediction)
    assert len(table) == 4 and table.seed.nunique() == 1
    rows = {(r.predictor, r.feedback_delay): r for r in table.itertuples()}
    hold0, ar0 = rows[("hold", 0)], rows[("ar(order=4)", 0)]
    # No delay: both are the inner path on the last report, on the same draw
    for metric in ("sum_rate", "ber", "csi_nmse_db"):
        assert getattr(hold0, metric) == getattr(ar0, metric), metric
    # Two slots at 60 km/h: hold is aged CSI, the fitted AR predicts
    hold2, ar2 = rows[("hold", 2)], rows[("ar(order=4)", 2)]
    assert ar2.csi_nmse_db < hold2.csi_nmse_db - 6
    assert ar2.sum_rate > hold2.sum_rate
    # The grid key is the 'predicted' path with the point's csi inside
    point = {**TDL_POINT, "feedback_delay": 2, "seed": int(ar2.seed)}
    spec = {"name": "predicted", "inner": "perfect", "predictor": ar,
            **prediction}
    assert csi_spec({**point, "predictor": ar,
                     "prediction": prediction}) == spec
    assert evaluate_point({**point, "csi": spec})["sum_rate"] == \
        ar2.sum_rate
    with pytest.raises(ValueError, match="must not itself be 'predicted'"):
        csi_spec({"csi": spec, "predictor": "hold"})
    with pytest.raises(ValueError, match=r"needs a `predictor`"):
        csi_spec({"prediction": {"order": "compress_then_predict"}})
    with pytest.raises(ValueError, match=r"cannot set \['inner'\]"):
        csi_spec({"predictor": "hold", "prediction": {"inner": "perfect"}})
    # The point's own environment is the one the predictor is fitted on
    with pytest.raises(ValueError, match=r"cannot set \['environment'\]"):
        csi_spec({"predictor": "ar", "prediction": {"environment": "umi"}})
    with pytest.raises(ValueError, match="`prediction` must be a mapping"):
        csi_spec({"predictor": "hold", "prediction": "ar"})


def test_pairing_on_the_feedback_delay_draws_the_same_ues(tmp_path):
    # Static UEs: the channel at the precoded slot is the same at every
    # delay, so paired delays (one seed: same UEs, bits and noise) give the
    # same link; another seed draws other UEs
    from lasco_sionna.link.point import evaluate_point  # noqa: PLC0415
    static = {"ue_speed_kmh": 0.0, "predictor": "hold",
              "prediction": {"history_length": 4}}
    paired = _link_sweep(tmp_path, "paired", {"feedback_delay": [0, 2]},
                         ["feedback_delay"], **static)
    paired = paired.set_index("feedback_delay")
    assert paired.seed.nunique() == 1
    for metric in ("sum_rate", "ber", "sinr_db"):
        assert paired[metric][0] == paired[metric][2], metric
    other = evaluate_point({**TDL_POINT, **static, "feedback_delay": 2,
                            "seed": int(paired.seed[0]) + 1})
    assert other["sum_rate"] != paired.sum_rate[2]


def test_report_prediction_link_recovered_share(sims_script):
    report = sims_script("report_prediction_link")
    rows = []
    for csi, ref, aged, pred in (("perfect", 36.0, 24.0, 30.0),
                                 ("lam", 20.0, 17.0, 20.6)):
        for predictor, delay, rate in (("hold", 0, ref), ("ar", 0, ref),
                                       ("hold", 2, aged), ("ar", 2, pred)):
            rows.append({"ue_speed_kmh": 60.0, "csi": csi, "csi_name": csi,
                         "predictor": predictor, "predictor_name": predictor,
                         "feedback_delay": delay, "sum_rate": rate,
                         "bler": 0.0, "csi_nmse_db": -10.0})
    table = pd.DataFrame(rows)
    out = report.recovered(table).set_index("csi")
    assert list(out.index) == ["perfect", "lam"]
    assert out.recovered["perfect"] == pytest.approx(0.5)
    assert out.recovered["lam"] == pytest.approx(1.2)
    assert "| 50 % |" in report.markdown(out.reset_index())
    # The delay-0 rows of a path are one draw: they must agree
    table.loc[1, "sum_rate"] = 35.0
    with pytest.raises(ValueError, match="delay-0 rows differ"):
        report.recovered(table)
    # ... and so must its aged rows (e.g. another grid key varied)
    table.loc[1, "sum_rate"] = 36.0
    extra = table[table.predictor == "hold"].iloc[[1]].assign(sum_rate=23.0)
    with pytest.raises(ValueError, match="aged .hold. rows differ"):
        report.recovered(pd.concat([table, extra], ignore_index=True))
