"""E-LASCO with linear SAMs (LMMSE reference/proxy, least-squares coefficients) and the shipped source covariance"""

import keras
import numpy as np
import pytest

from lasco_sionna.collab import adapt_linear
from lasco_sionna.models import (LinearProjectionEncoder, TransformerLAM,
                                 load_source_covariance,
                                 save_source_covariance)

ANT = TAPS = 8


def images(n, seed, taps=TAPS):
    """Unit-norm images with energy in the first ``taps`` delay taps"""
    rng = np.random.default_rng(seed)
    x = np.zeros([n, 2, ANT, TAPS], np.float32)
    x[..., :taps] = rng.standard_normal([n, 2, ANT, taps])
    x[:, :, :2] *= 3.0                      # a few strong angle bins
    return x / np.linalg.norm(x.reshape(n, -1), axis=1)[:, None, None, None]


def nmse_db(y, x):
    return 10 * np.log10(np.mean(np.sum((np.asarray(y) - x) ** 2,
                                        axis=(1, 2, 3))))


@pytest.fixture(scope="module")
def setup():
    keras.utils.set_random_seed(0)
    enc = LinearProjectionEncoder(num_ant=ANT, num_taps=TAPS, compression=4,
                                  bits_per_measurement=6)
    lam = TransformerLAM(num_ant=ANT, num_taps=TAPS, d_model=16,
                         num_layers=1, num_heads=2, ff_dim=16, code_dim=16)
    src = images(2000, 0)                   # sources: all taps
    v = src.reshape(len(src), -1).astype(np.float64)
    lam(src[:1])
    return enc, lam, v.T @ v / len(v)


def split(enc, seed, n):
    """Target: energy only in the first 2 taps (a strong shift)"""
    x = images(n, seed, taps=2)
    return enc(x).numpy(), x


def test_linear_elasco_adapts_to_a_shift_and_the_lam_stays_a_black_box(setup):
    enc, lam, cov = setup
    before = [w.copy() for w in lam.get_weights()]
    (_, x_tr), (x0_val, x_val), (x0_te, x_te) = (split(enc, s, n) for s, n
                                                 in ((1, 400), (2, 200),
                                                     (3, 300)))
    calls = []

    def black_box(x0):                       # NumPy in, NumPy out
        calls.append(len(x0))
        return np.asarray(lam(np.asarray(x0)))

    res = adapt_linear(black_box, enc, x_tr, x0_val, x_val, cov, mode="tap")
    assert sum(calls) == len(x0_val)         # the LAM's outputs are cached
    for w0, w1 in zip(before, lam.get_weights()):
        np.testing.assert_array_equal(w0, w1)
    assert res.val_nmse_db < res.zero_shot_val_nmse_db - 3.0
    zero_shot = nmse_db(lam(x0_te), x_te)
    adapted = nmse_db(res.decoder(lam)(x0_te), x_te)
    # The shift is linear-learnable: it must clearly help on unseen data
    assert adapted < zero_shot - 3.0, (adapted, zero_shot)
    assert res.shrinkage < 1.0
    assert res.num_trainable == 3 * TAPS
    # The target-estimated gain G [D, M] is adapted state too
    d, m = 2 * ANT * TAPS, enc.num_measurements
    assert res.proxy.gain.shape == (d, m)
    assert res.num_adapted == 3 * TAPS + d * m


def test_adapted_decoder_saves_and_loads_as_keras(setup, tmp_path):
    """An adapted decoder (LAM, LMMSE proxy and reference, fitted
    coefficients) round-trips through a .keras file with its outputs;
    one with an opaque LAM says it cannot be saved"""
    enc, lam, cov = setup
    (_, x_tr), (x0_val, x_val) = (split(enc, s, n) for s, n in ((1, 400),
                                                                (2, 200)))
    res = adapt_linear(lam, enc, x_tr, x0_val, x_val, cov, mode="tap")
    decoder = res.decoder(lam)
    assert isinstance(decoder, keras.layers.Layer)
    want = np.asarray(decoder(x0_val))
    path = str(tmp_path / "adapted.keras")
    inputs = keras.Input((2, ANT, TAPS))
    keras.Model(inputs, decoder(inputs)).save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_array_equal(np.asarray(loaded(x0_val)), want)
    opaque = res.decoder(lambda x0: np.asarray(lam(x0)))
    with pytest.raises(TypeError, match="lam is not a Keras layer"):
        opaque.get_config()


def test_full_shrinkage_lasco_is_the_lam(setup):
    enc, lam, cov = setup
    (_, x_tr), (x0_val, x_val) = split(enc, 1, 100), split(enc, 2, 50)
    res = adapt_linear(lam, enc, x_tr, x0_val, x_val, cov, mode="lasco",
                       shrinkage_grid=[1.0])
    assert res.shrinkage == 1.0 and res.num_trainable == 0
    assert res.num_adapted == 0          # proxy = the source reference
    np.testing.assert_allclose(res.decoder(lam)(x0_val), lam(x0_val),
                               atol=1e-5)
    assert res.val_nmse_db == pytest.approx(res.zero_shot_val_nmse_db,
                                            abs=1e-4)


@pytest.mark.parametrize("mode", ["scalar", "tap", "antenna"])
def test_coefficients_match_an_independent_least_squares_fit(setup, mode):
    enc, lam, cov = setup
    (_, x_tr), (x0_val, x_val) = split(enc, 4, 200), split(enc, 5, 100)
    res = adapt_linear(lam, enc, x_tr, x0_val, x_val, cov, mode=mode,
                       shrinkage_grid=[0.3])
    assert res.shrinkage == 0.3      # else the check below would be vacuous
    y = [np.asarray(f(x0_val), np.float64) for f in
         (lam, res.proxy, res.reference)]
    coef = res.combiner.coefficients.numpy()
    groups = {"scalar": [(slice(None), slice(None))],
              "tap": [(slice(None), slice(t, t + 1)) for t in range(TAPS)],
              "antenna": [(slice(a, a + 1), slice(None))
                          for a in range(ANT)]}[mode]
    for a_sl, t_sl in groups:
        # Normal equations on the group's entries (independent of lstsq)
        cols = np.stack([y[0][:, :, a_sl, t_sl].ravel(),
                         y[1][:, :, a_sl, t_sl].ravel(),
                         -y[2][:, :, a_sl, t_sl].ravel()], axis=1)
        target = x_val[:, :, a_sl, t_sl].ravel().astype(np.float64)
        expect = np.linalg.solve(cols.T @ cols, cols.T @ target)
        np.testing.assert_allclose(coef[:, 0, a_sl, t_sl].reshape(3), expect,
                                   rtol=2e-3, atol=2e-3)


def test_linear_adaptation_bad_input(setup):
    enc, lam, cov = setup
    x0, x = split(enc, 6, 20)
    with pytest.raises(ValueError, match="'gated' is not valid"):
        adapt_linear(lam, enc, x, x0, x, cov, mode="gated")
    with pytest.raises(ValueError, match=r"in \[0, 1\], got \[1.5\]"):
        adapt_linear(lam, enc, x, x0, x, cov, shrinkage_grid=[1.5])
    with pytest.raises(ValueError, match="`x_train` must have shape"):
        adapt_linear(lam, enc, x[..., :4], x0, x, cov)
    with pytest.raises(ValueError, match="same length"):
        adapt_linear(lam, enc, x, x0[:10], x, cov)
    with pytest.raises(TypeError, match="LinearProjectionEncoder"):
        adapt_linear(lam, lam, x, x0, x, cov)
    with pytest.raises(ValueError, match=r"`source_covariance` must have "
                                         r"shape \[128, 128\]"):
        adapt_linear(lam, enc, x, x0, x, cov[:5, :5])


def test_source_covariance_round_trip_and_shipped(tmp_path, setup):
    _, _, cov = setup
    path = tmp_path / "cov.h5"
    save_source_covariance(cov, ANT, TAPS, {"note": "test"}, path=str(path))
    back, prov = load_source_covariance(ANT, TAPS, path=str(path))
    assert prov == {"note": "test"}
    np.testing.assert_array_equal(back, back.T)
    assert np.linalg.norm(back - cov) / np.linalg.norm(cov) < 1e-3
    with pytest.raises(ValueError, match="holds a 8x8 covariance"):
        load_source_covariance(16, 8, path=str(path))
    with pytest.raises(ValueError, match="symmetric"):
        save_source_covariance(cov[:10], ANT, TAPS, path=str(path))
    with pytest.raises(ValueError, match="no shipped source covariance"):
        load_source_covariance(7, 5)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_source_covariance(ANT, TAPS, path=str(tmp_path / "none.h5"))
    with pytest.raises(ValueError, match="finite with trace about 1"):
        save_source_covariance(cov * 1e6, ANT, TAPS, path=str(path))
    shipped, prov = load_source_covariance(32, 32)
    assert prov["num_images"] > 10000 and "rt-munich" in prov["sources"]
    # A second-moment matrix of unit-norm images: trace 1, PSD
    assert np.trace(shipped) == pytest.approx(1.0, rel=1e-3)
    assert np.linalg.eigvalsh(shipped).min() > -1e-4 * np.trace(shipped)
