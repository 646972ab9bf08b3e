"""Quantiser bit accounting, encoder algebra, LAM/SAM layers and .keras round trips"""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from lasco_sionna.csi import UniformQuantizer
from lasco_sionna.models import (LinearProjectionEncoder, LMMSEDecoder,
                                 MixerSAM, TransformerLAM, lmmse_gain,
                                 load_pretrained)

TINY_LAM = dict(num_ant=8, num_taps=8, d_model=16, num_layers=2, num_heads=2,
                ff_dim=32)
TINY_SAM = dict(num_ant=8, num_taps=8, token_dim=8, channel_dim=16)


def images(n, ant=8, taps=8, seed=0):
    x = np.random.default_rng(seed).standard_normal([n, 2, ant, taps])
    return (x / np.linalg.norm(x.reshape(n, -1), axis=1)[:, None, None, None]
            ).astype(np.float32)


def test_quantizer_bits_are_exact():
    q = UniformQuantizer(3, clip=2.0)
    x = np.array([[-5.0, -2.0, -1.9, -0.1, 0.0, 0.4, 1.99, 7.0]], np.float32)
    idx = q.indices(x).numpy()
    # Independent computation: 8 levels of width 0.5 on [-2, 2]
    want = np.clip(np.floor((x + 2.0) / 0.5), 0, 7).astype(int)
    np.testing.assert_array_equal(idx, want)
    bits = q.to_bits(x).numpy()
    assert bits.shape == (1, 8 * 3)
    np.testing.assert_array_equal(
        bits.reshape(8, 3) @ np.array([4, 2, 1]), want[0])
    np.testing.assert_allclose(q.from_bits(bits), q(x), atol=1e-6)
    np.testing.assert_allclose(q(x), -2.0 + (want + 0.5) * 0.5, atol=1e-6)
    # Straight-through gradient: 1 inside the range, 0 outside
    xv = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xv)
        y = tf.reduce_sum(q(xv))
    np.testing.assert_array_equal(tape.gradient(y, xv),
                                  (np.abs(x) <= 2.0).astype(np.float32))
    with pytest.raises(ValueError, match="num_bits"):
        UniformQuantizer(0)


def test_encoder_projection_algebra_and_payload():
    enc = LinearProjectionEncoder(num_ant=8, num_taps=8, compression=4,
                                  bits_per_measurement=5)
    assert enc.num_measurements == 32 and enc.payload_bits == 160
    a = enc._a.numpy()  # pylint: disable=protected-access
    np.testing.assert_allclose(a @ a.T, np.eye(32), atol=1e-5)
    x = images(6)
    # Without quantisation, A^T A is the projector on the row space
    x0 = enc.invert(enc.measure(x)).numpy().reshape(6, -1)
    proj = x.reshape(6, -1) @ a.T @ a
    np.testing.assert_allclose(x0, proj, atol=1e-5)
    # Coarse NMSE of random images ~ 1 - 1/compression
    big = images(400, seed=1)
    err = np.sum((enc(big).numpy() - big) ** 2, axis=(1, 2, 3))
    assert abs(err.mean() - 0.75) < 0.03
    np.testing.assert_allclose(enc.decode(enc.encode(x)), enc(x), atol=1e-6)
    with pytest.raises(ValueError, match="compression`=5 must divide"):
        LinearProjectionEncoder(num_ant=8, num_taps=8, compression=5)


@pytest.mark.parametrize("cls,kwargs", [(TransformerLAM, TINY_LAM),
                                        (TransformerLAM,
                                         {**TINY_LAM, "code_dim": 24}),
                                        (MixerSAM, TINY_SAM)])
def test_decoders_start_as_identity_and_round_trip(cls, kwargs, tmp_path):
    layer = cls(**kwargs)
    x0 = images(4)
    np.testing.assert_allclose(layer(x0), x0, atol=1e-6)   # zero head
    for w in layer.weights:                                 # perturb all
        w.assign(w + 0.05 * tf.random.normal(w.shape))
    inp = keras.Input((2, 8, 8))
    model = keras.Model(inp, layer(inp))
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(loaded(x0), model(x0), atol=1e-6)
    assert type(loaded.layers[-1]) is cls
    assert loaded.layers[-1].get_config() == layer.get_config()


def test_lmmse_gain_matches_closed_form_and_lam_lift():
    enc = LinearProjectionEncoder(num_ant=8, num_taps=8, compression=8,
                                  bits_per_measurement=6)
    # A low-rank Gaussian source: the LMMSE decoder is near-perfect, and
    # far better than the coarse inversion
    rng = np.random.default_rng(1)
    basis = rng.standard_normal([6, 128])
    x = (rng.standard_normal([3000, 6]) @ basis).reshape(-1, 2, 8, 8)
    x = (x / np.linalg.norm(x.reshape(len(x), -1), axis=1)[:, None, None,
                                                          None]).astype("f4")
    gain, cov = lmmse_gain(enc, x[:2000])
    a = enc.projection.astype(np.float64)
    np.testing.assert_allclose(cov, x[:2000].reshape(2000, -1).T.astype(
        np.float64) @ x[:2000].reshape(2000, -1) / 2000, atol=1e-9)
    # Independent: normal equations of min E|G y - x|^2 with y = A x0
    y = enc(x[:2000]).numpy().reshape(2000, -1) @ a.T
    g_ls = np.linalg.lstsq(y, x[:2000].reshape(2000, -1), rcond=None)[0].T
    dec = LMMSEDecoder(enc.get_config())
    dec.set_gain(gain)
    test, x0 = x[2000:], enc(x[2000:]).numpy()
    err = np.mean(np.sum((dec(x0).numpy() - test) ** 2, axis=(1, 2, 3)))
    err_ls = np.mean(np.sum((x0.reshape(len(x0), -1) @ a.T @ g_ls.T
                             - test.reshape(len(test), -1)) ** 2, axis=1))
    err_x0 = np.mean(np.sum((x0 - test) ** 2, axis=(1, 2, 3)))
    assert err < 0.02 and err_x0 > 0.5
    assert abs(10 * np.log10(err / err_ls)) < 0.5
    # The LAM's lift initialised to the same decoder reproduces it
    lam = TransformerLAM(**TINY_LAM, code_dim=16)
    lam.init_linear_inverse(a, gain)
    np.testing.assert_allclose(lam(x0), dec(x0), atol=1e-5)
    with pytest.raises(ValueError, match="M <= code_dim=4"):
        TransformerLAM(**TINY_LAM, code_dim=4).init_linear_inverse(a, gain)
    with pytest.raises(ValueError, match="`code_dim` must be a non-negative"):
        TransformerLAM(**TINY_LAM, code_dim=-1)
    with pytest.raises(ValueError, match="`shrinkage` must be in"):
        lmmse_gain(enc, x[:10], shrinkage=2.0)
    with pytest.raises(ValueError, match="`images` must have shape"):
        lmmse_gain(enc, x[:10, 0])
    with pytest.raises(ValueError, match="`gain` must have shape"):
        dec.set_gain(gain[:5])
    # A precomputed sample covariance gives the same shrunk gain
    prior = np.eye(128) / 128
    g_a, c_a = lmmse_gain(enc, x[:500], shrinkage=0.3, prior=prior)
    g_b, c_b = lmmse_gain(enc, x[:500], shrinkage=0.3, prior=prior,
                          sample_covariance=lmmse_gain(enc, x[:500])[1])
    np.testing.assert_allclose(g_b, g_a, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(c_b, c_a, atol=1e-12)
    with pytest.raises(ValueError, match="`sample_covariance` must have"):
        lmmse_gain(enc, x[:10], sample_covariance=np.eye(3))


def test_parameter_budgets():
    lam = TransformerLAM()
    sam = MixerSAM()
    lam(images(1, 32, 32))
    sam(images(1, 32, 32))
    assert 2e6 < lam.count_params() < 1e7          # "a few million"
    assert 1e4 < sam.count_params() < 2e5          # 10k-200k


def test_bad_input():
    with pytest.raises(ValueError, match="num_heads`=3 must divide"):
        TransformerLAM(d_model=16, num_heads=3)
    with pytest.raises(ValueError, match="unknown pretrained model 'lam-x'"):
        load_pretrained("lam-x")


def test_learned_csi_path_bits_and_round_trip():
    from lasco_sionna.csi import LearnedCSIFeedback, nmse_db  # noqa: PLC0415
    enc = LinearProjectionEncoder(num_ant=8, num_taps=8, compression=1,
                                  bits_per_measurement=12, clip=4.0)
    fb = LearnedCSIFeedback(enc, lambda x: x, 8, 32, norm_bits=8)
    assert fb.payload_bits == 128 * 12 + 8
    rng = np.random.default_rng(0)
    a = np.zeros([4, 8, 32], np.complex64)
    a[..., :8] = rng.standard_normal([4, 8, 8]) + 1j * rng.standard_normal(
        [4, 8, 8])
    h = np.fft.fftshift(np.fft.fft(np.fft.ifft(a, axis=-2, norm="ortho"),
                                   axis=-1, norm="ortho"), axes=-1)
    h = (3.0 * h).astype(np.complex64)
    bits = fb.encode(h)
    assert bits.shape == (4, fb.payload_bits)
    # Lossless projection, 12-bit measurements, 8-bit norm: about -40 dB
    assert float(nmse_db(h, fb.decode(bits))) < -35
    assert fb(h[None]).shape == (1, 4, 8, 32)
    # Double precision: the encoder and decoder stay single precision
    # inside, the path's inputs and outputs are cast at its boundary
    fb64 = LearnedCSIFeedback(enc, lambda x: x, 8, 32, norm_bits=8,
                              precision="double")
    h_hat64 = fb64(h.astype(np.complex128))
    assert h_hat64.dtype == tf.complex128
    assert fb64.encode(h).dtype == tf.float64
    np.testing.assert_allclose(h_hat64.numpy(), fb(h).numpy(), atol=1e-5)
    with pytest.raises(ValueError, match="built for 8 antennas"):
        LearnedCSIFeedback(enc, lambda x: x, 16, 32)
    with pytest.raises(TypeError, match="callable"):
        LearnedCSIFeedback(enc, "lam", 8, 32)


@pytest.mark.parametrize("arch", ["csinet", "crnet"])
def test_conv_autoencoders(arch, tmp_path):
    from lasco_sionna.csi import LearnedCSIFeedback  # noqa: PLC0415
    from lasco_sionna.models import ConvAutoencoder, fit  # noqa: PLC0415
    ae = ConvAutoencoder(arch, num_ant=8, num_taps=8, compression=4,
                         bits_per_measurement=6)
    x = images(300, seed=5)
    # Images living in 8 of 128 dimensions (2 angles x 2 taps): learnable
    x[:, :, 2:] = 0
    x[..., 2:] = 0
    x /= np.linalg.norm(x.reshape(300, -1), axis=1)[:, None, None, None]
    y = ae(x[:2])
    assert y.shape == (2, 2, 8, 8) and ae.payload_bits == 32 * 6
    hist, best = fit(ae, ae.trainable_weights, (x[:240],), x[:240],
                     (x[240:],), x[240:], steps=150, batch_size=32,
                     learning_rate=3e-3, eval_every=50)
    # Learns something: clearly better than its initialisation and than
    # predicting zeros (0 dB)
    best_db = hist.val_nmse_db[hist.step == best].iloc[0]
    assert best_db < min(hist.val_nmse_db[0], 0.0) - 3.0
    np.testing.assert_allclose(ae.reconstruct(ae.decode(ae.encode(x[:4]))),
                               ae(x[:4]), atol=1e-5)
    inp = keras.Input((2, 8, 8))
    model = keras.Model(inp, ae(inp))
    model.save(tmp_path / "ae.keras")
    loaded = keras.saving.load_model(tmp_path / "ae.keras", safe_mode=True)
    np.testing.assert_allclose(loaded(x[:4]), model(x[:4]), atol=1e-5)
    # As a CSI path of the link
    fb = LearnedCSIFeedback(ae, ae.reconstruct, 8, 16)
    assert fb.payload_bits == ae.payload_bits + 8
    h = (np.random.default_rng(0).standard_normal([3, 8, 16])
         + 1j).astype(np.complex64)
    assert fb(h).shape == (3, 8, 16)


def test_shipped_tiny_models_load_offline():
    from lasco_sionna.models import list_pretrained  # noqa: PLC0415
    shipped = list_pretrained()
    assert {"lam-tiny", "sam-tiny"} <= set(shipped)
    enc, lam, record = load_pretrained("lam-tiny")
    assert record["model"] == "lam" and enc.payload_bits == 512
    assert isinstance(lam, TransformerLAM)
    assert lam.count_params() == record["num_parameters"]
    x0 = enc(images(3, 32, 32)).numpy()
    # Trained: no longer the identity of the zero-initialised head
    assert np.abs(lam(x0).numpy() - x0).max() > 1e-3
    _, sam, srec = load_pretrained("sam-tiny")
    assert isinstance(sam, MixerSAM) and srec["model"] == "sam"
    assert set(record["sources"]) == set(srec["sources"])


def test_compact_weights_are_float16_and_reload(tmp_path, h5_arrays):
    from lasco_sionna.models import save_compact_weights  # noqa: PLC0415
    lam = TransformerLAM(**TINY_LAM, code_dim=8)
    inp = keras.Input((2, 8, 8))
    model = keras.Model(inp, lam(inp))
    for w in lam.weights:
        w.assign(w + 0.05 * tf.random.normal(w.shape))
    full, compact = tmp_path / "a.weights.h5", tmp_path / "b.weights.h5"
    model.save_weights(str(full))
    save_compact_weights(model, str(compact))
    a, b = h5_arrays(full), h5_arrays(compact)
    assert a.keys() == b.keys()
    assert {v.dtype for v in b.values()} == {np.dtype("float16")}
    assert sum(v.nbytes for v in b.values()) * 2 == \
        sum(v.nbytes for v in a.values())
    lam2 = TransformerLAM(**TINY_LAM, code_dim=8)
    model2 = keras.Model(inp, lam2(inp))
    model2.load_weights(str(compact))
    assert all(w.dtype == "float32" for w in lam2.weights)
    x0 = images(4)
    np.testing.assert_allclose(lam2(x0), lam(x0), atol=2e-3)
    assert not np.array_equal(lam2(x0), lam(x0))      # really rounded
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.weights.h5",
                                                          "b.weights.h5"]
    with pytest.raises(ValueError, match="must end in '.weights.h5'"):
        save_compact_weights(model, str(tmp_path / "c.h5"))


def test_pretrained_csi_path_by_name():
    from lasco_sionna.csi import get_csi_feedback  # noqa: PLC0415
    csi = get_csi_feedback({"name": "pretrained", "model": "lam-tiny"}, 32, 64)
    assert csi.payload_bits == 512 + 8
    h = (np.random.default_rng(1).standard_normal([2, 32, 64])
         + 1j * np.random.default_rng(2).standard_normal([2, 32, 64]))
    assert csi(h.astype(np.complex64)).shape == (2, 32, 64)
    with pytest.raises(ValueError, match="needs `model`"):
        get_csi_feedback({"name": "pretrained"}, 32, 64)
    with pytest.raises(ValueError, match="unknown pretrained model"):
        get_csi_feedback({"name": "pretrained", "model": "lam-x"}, 32, 64)


@pytest.mark.parametrize("lam_name,sam_name,margin_db", [
    ("lam-cr16", "sam-ref-cr16", 2.0),      # recorded margin 4.4 dB
    ("lam-cr32", "sam-ref-cr32", 1.2)])     # recorded margin 2.6 dB
def test_shipped_lam_beats_shipped_sam_on_a_fresh_source_draw(
        tmp_path, lam_name, sam_name, margin_db):
    """Integrity of the shipped (float16) weights against their record:
    on new CDL-D draws (source parameters, unseen seed) the LAM is better
    than the reference SAM by about its recorded margin, and both are far
    better than the coarse inversion."""
    from lasco_sionna.channels import (BSArray, Numerology,  # noqa: PLC0415
                                       build_dataset, get_environment)
    from lasco_sionna.csi import csi_image  # noqa: PLC0415
    enc, lam, rec = load_pretrained(lam_name)
    _, sam, srec = load_pretrained(sam_name)
    assert rec["encoder"] == srec["encoder"]
    env = get_environment("cdl-d", numerology=Numerology(fft_size=256),
                          bs_array=BSArray(num_cols=32), delay_spread=100e-9,
                          bs_yaw_jitter_deg=60.0)
    ds = build_dataset(env, 256, seed=12345, cache_dir=tmp_path,
                       progress=False)
    x = csi_image(ds.as_matrix(), 32)[0].numpy()
    x0 = enc(x).numpy()

    def nmse_db(y):
        return 10 * np.log10(np.mean(np.sum((np.asarray(y) - x) ** 2,
                                            axis=(1, 2, 3))))
    lam_db, sam_db = nmse_db(lam(x0)), nmse_db(sam(x0))
    assert abs(lam_db - rec["val_nmse_db"]["cdl-d-100ns"]) < 1.5
    assert lam_db < sam_db - margin_db
    assert sam_db < nmse_db(x0) - 6.0


@pytest.fixture
def weights_copy(tmp_path, monkeypatch):
    """A weights folder holding a copy of lam-tiny, as the package's"""
    import shutil  # noqa: PLC0415
    from lasco_sionna.models import pretrained  # noqa: PLC0415
    for ext in (".json", ".weights.h5"):
        shutil.copy(os.path.join(pretrained.WEIGHTS_DIR, "lam-tiny" + ext),
                    tmp_path / ("lam-tiny" + ext))
    monkeypatch.setattr(pretrained, "WEIGHTS_DIR", str(tmp_path))
    return tmp_path


def test_shipped_records_carry_the_weights_sha256():
    from lasco_sionna.models import list_pretrained  # noqa: PLC0415
    from lasco_sionna.models.pretrained import (  # noqa: PLC0415
        WEIGHTS_DIR, check_weights_sha256)
    shipped = list_pretrained()
    assert shipped
    for name, record in shipped.items():
        check_weights_sha256(record,
                             os.path.join(WEIGHTS_DIR, f"{name}.weights.h5"))


def test_corrupted_or_unstamped_weights_are_refused(weights_copy):
    from lasco_sionna.models import stamp_weights_sha256  # noqa: PLC0415
    w = weights_copy / "lam-tiny.weights.h5"
    data = bytearray(w.read_bytes())
    data[len(data) // 2] ^= 0x01                       # one flipped bit
    w.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=f"{w}.*corrupted"):
        load_pretrained("lam-tiny")
    w.write_bytes(bytes(data[:len(data) // 2]))        # truncated
    with pytest.raises(ValueError, match=f"{w}.*corrupted"):
        load_pretrained("lam-tiny")
    # Re-stamped (on purpose), a truncated file still names itself
    assert stamp_weights_sha256() == [str(weights_copy / "lam-tiny.json")]
    with pytest.raises(ValueError, match=f"weights file {w}"):
        load_pretrained("lam-tiny")
    record = json.loads((weights_copy / "lam-tiny.json").read_text())
    del record["sha256"]
    (weights_copy / "lam-tiny.json").write_text(json.dumps(record))
    with pytest.raises(ValueError, match="no 'sha256'.*stamp_weights"):
        load_pretrained("lam-tiny")


def test_unreadable_record_does_not_hide_the_others(weights_copy):
    from lasco_sionna.models import list_pretrained  # noqa: PLC0415
    (weights_copy / "broken.json").write_text('{"model": "lam", ')
    (weights_copy / "broken.weights.h5").write_bytes(b"")
    with pytest.warns(UserWarning, match="broken.json"):
        assert list(list_pretrained()) == ["lam-tiny"]
    assert load_pretrained("lam-tiny")[2]["name"] == "lam-tiny"
    with pytest.raises(ValueError, match="broken.json is unreadable"):
        load_pretrained("broken")
    # The list of available models in the error skips it again, with a warning
    with pytest.warns(UserWarning, match="broken.json"), \
            pytest.raises(ValueError, match="unknown pretrained model 'nope'.*"
                                            "available: lam-tiny"):
        load_pretrained("nope")


def test_load_pretrained_from_a_path(tmp_path):
    import shutil  # noqa: PLC0415
    from lasco_sionna.models.pretrained import WEIGHTS_DIR  # noqa: PLC0415
    for ext in (".json", ".weights.h5"):
        shutil.copy(os.path.join(WEIGHTS_DIR, "lam-tiny" + ext),
                    tmp_path / ("mine" + ext))
    x0 = images(2, 32, 32)
    ref = load_pretrained("lam-tiny")[1](x0).numpy()
    for path in (tmp_path / "mine.json", str(tmp_path / "mine.weights.h5")):
        _, lam, record = load_pretrained(path)
        assert record["name"] == "lam-tiny"
        np.testing.assert_array_equal(lam(x0).numpy(), ref)
    with pytest.raises(FileNotFoundError, match="other.json does not exist"):
        load_pretrained(tmp_path / "other.json")


def test_fit_reproduces_the_earlier_loop():
    """``fit`` on :func:`training_loop` gives the history the earlier loop
    gave (values computed by it on this problem)"""
    from lasco_sionna.models import fit  # noqa: PLC0415
    r = np.random.default_rng(1)
    xt = r.standard_normal((200, 2, 4, 4)).astype(np.float32)
    xv = r.standard_normal((40, 2, 4, 4)).astype(np.float32)
    yt = 0.5 * xt + 0.1 * np.roll(xt, 1, -1)
    yv = 0.5 * xv + 0.1 * np.roll(xv, 1, -1)
    w = keras.Variable(np.eye(32, dtype=np.float32) * 0.1)

    def predict(x):
        # [batch, 32] -> [batch, 2, 4, 4]
        return tf.reshape(tf.matmul(tf.reshape(x, [-1, 32]), w), [-1, 2, 4, 4])

    hist, best = fit(predict, [w], (xt,), yt, (xv,), yv, steps=30,
                     batch_size=16, learning_rate=1e-2, eval_every=7, seed=3)
    assert list(hist.columns) == ["step", "elapsed_s", "train_nmse_db",
                                  "val_nmse_db"]
    assert hist.step.tolist() == [0, 7, 14, 21, 28, 30] and best == 30
    np.testing.assert_allclose(
        hist.train_nmse_db[1:],
        [-2.5546781685835223, -4.046861983137591, -5.763057304847738,
         -7.497897903687381, -8.407403321816702], rtol=1e-5)
    np.testing.assert_allclose(
        hist.val_nmse_db,
        [-1.8559212684631348, -2.9056396484375, -3.93723201751709,
         -5.216867446899414, -6.88929557800293, -7.500893592834473],
        rtol=1e-5)
    np.testing.assert_allclose(w.numpy()[0, :3],
                               [0.35895765, 0.12162504, 0.03023092],
                               rtol=1e-4)


def test_training_loop_schedule_and_resume():
    """Evaluations and checkpoints at the same steps whether a run goes
    through or stops and resumes; the batch of the step after ``s`` steps
    is ``batch(s)``"""
    from lasco_sionna.models import training_loop  # noqa: PLC0415

    def trace(first, last, phase_start=0, max_seconds=None, elapsed=0.0):
        seen, rows, ckpts = [], [], []
        out = training_loop(
            lambda s: (seen.append(s), 10.0 ** (-s / 10))[1], lambda s: (s,),
            lambda: {"val": len(seen)}, first, last, 4,
            phase_start=phase_start, elapsed_s=elapsed, on_eval=rows.append,
            checkpoint=lambda s, t: ckpts.append(s), checkpoint_every=3,
            max_seconds=max_seconds)
        return out, seen, rows, ckpts

    (step, elapsed), seen, rows, ckpts = trace(0, 10)
    assert step == 10 and elapsed >= 0
    assert seen == list(range(10))
    assert [r["step"] for r in rows] == [4, 8, 10]
    assert ckpts == [3, 6, 9, 10]
    # train_nmse_db: 10 log10 of the mean loss since the last evaluation
    np.testing.assert_allclose(rows[1]["train_nmse_db"],
                               10 * np.log10(np.mean(
                                   [10.0 ** (-s / 10) for s in range(4, 8)])))
    assert rows[0]["val"] == 4 and set(rows[0]) == {
        "step", "elapsed_s", "train_nmse_db", "val"}
    # Stopped by the time limit after one step, with a checkpoint
    (step, _), seen, rows, ckpts = trace(0, 10, max_seconds=0.0)
    assert (step, seen, rows, ckpts) == (1, [0], [], [1])
    # Resumed from step 6 of a phase that started at step 2
    (step, elapsed), seen, rows, ckpts = trace(6, 12, phase_start=2,
                                               elapsed=100.0)
    assert step == 12 and elapsed >= 100.0 and seen == list(range(6, 12))
    assert [r["step"] for r in rows] == [10, 12] and ckpts == [8, 11, 12]
    # Nothing to do
    assert trace(5, 5)[1:] == ([], [], [])
    with pytest.raises(ValueError, match="`checkpoint_every`"):
        training_loop(lambda: 1.0, lambda s: (), dict, 0, 1, 1,
                      checkpoint=print)
