"""Our environments and datasets in Sionna's own pipelines, as the tutorials write them (issue 13, section 2)"""

import numpy as np
import pytest
import tensorflow as tf
import sionna.phy
from sionna.phy.channel import (ApplyOFDMChannel, CIRDataset, GenerateOFDMChannel, OFDMChannel,
                                TimeChannel, cir_to_ofdm_channel,
                                subcarrier_frequencies)
from sionna.phy.channel.tr38901 import AntennaArray
from sionna.phy.fec.ldpc import LDPC5GDecoder, LDPC5GEncoder
from sionna.phy.mapping import BinarySource, Demapper, Mapper
from sionna.phy.mimo import StreamManagement
from sionna.phy.ofdm import (LinearDetector, LMMSEEqualizer,
                             LSChannelEstimator, ResourceGrid,
                             ResourceGridMapper, RZFPrecoder)
from sionna.phy.nr import PUSCHConfig, PUSCHReceiver, PUSCHTransmitter
from sionna.phy.utils import compute_ber, ebnodb2no

from lasco_sionna.channels import (BSArray, Numerology, as_channel_model,
                                   build_dataset, get_environment)
from lasco_sionna.csi import (CSIContext, PerfectCSI, QuantizedCSI,
                              TypeICodebookCSI,
                              csi_image, get_csi_feedback)

NUM = Numerology(fft_size=48)


def small(name, **kwargs):
    return get_environment(name, numerology=NUM,
                           bs_array=kwargs.pop("bs_array", BSArray(num_cols=4)),
                           **kwargs)


def per_ue_energy(h):
    """Mean energy per element of every UE: [batch, num_users]"""
    return np.mean(np.abs(np.asarray(h)) ** 2, axis=(2, 3, 4, 5, 6))


@pytest.mark.parametrize("name", ["umi", "cdl-c"])
def test_channel_model_is_normalised_per_ue_like_datasets(name):
    env = small(name)
    h = env.channel_model(4)(8).numpy()
    # UMi with path loss gave ~1e-12, CDL-C a +5 dB median gain
    np.testing.assert_allclose(per_ue_energy(h), 1.0, rtol=1e-4)
    raw = env.channel_model(4, normalize=False)(8).numpy()
    assert np.std(10 * np.log10(per_ue_energy(raw))) > 0.5
    # The Sionna channel model: unit energy at the environment's subcarriers
    a, tau = as_channel_model(env, 3)(5, 2, 1e3)
    assert a.shape[:5] == (5, 3, 1, 1, 4) and a.shape[6] == 2
    assert tau.shape == (5, 3, 1, a.shape[5]) and tau.dtype == tf.float32
    f = subcarrier_frequencies(NUM.fft_size, NUM.subcarrier_spacing)
    np.testing.assert_allclose(per_ue_energy(cir_to_ofdm_channel(f, a, tau)),
                               1.0, rtol=1e-4)


def test_sionna_blocks_accept_our_models_downlink_and_uplink():
    env = small("cdl-c", num_ue_ant=2)
    rg = ResourceGrid(num_ofdm_symbols=14, fft_size=NUM.fft_size,
                      subcarrier_spacing=NUM.subcarrier_spacing, num_tx=1,
                      num_streams_per_tx=2)
    dl = as_channel_model(env, 3)
    h = GenerateOFDMChannel(dl, rg)(2)
    assert h.shape == (2, 3, 2, 1, 4, 14, NUM.fft_size)
    x = tf.complex(tf.ones([2, 1, 4, 14, NUM.fft_size]),
                   tf.zeros([2, 1, 4, 14, NUM.fft_size]))
    y = OFDMChannel(dl, rg, add_awgn=False)(x)
    assert y.shape == (2, 3, 2, 14, NUM.fft_size)
    y, h = TimeChannel(dl, bandwidth=NUM.bandwidth, num_time_samples=30,
                       return_channel=True)(tf.ones([2, 1, 4, 30], tf.complex64))
    assert y.shape[:3] == (2, 3, 2)
    # Uplink: the same draw with transmitters and receivers swapped
    sionna.phy.config.seed = 3
    a_dl, tau_dl = dl(2, 1, 1.0)
    sionna.phy.config.seed = 3
    a_ul, tau_ul = as_channel_model(env, 3, direction="uplink")(2, 1, 1.0)
    assert a_ul.shape[:5] == (2, 1, 4, 3, 2) and tau_ul.shape[:3] == (2, 1, 3)
    np.testing.assert_allclose(a_ul, np.transpose(a_dl, (0, 3, 4, 1, 2, 5, 6)))
    with pytest.raises(ValueError, match="direction"):
        as_channel_model(env, 3, direction="sideways")
    with pytest.raises(TypeError, match="allowed: normalize"):
        as_channel_model(env, 3, num_samples=4)


def test_dataset_taps_are_exact_and_feed_cir_dataset(tmp_path):
    env = small("cdl-c")
    ds = build_dataset(env, 12, cache_dir=str(tmp_path), progress=False)
    model = as_channel_model(ds, 2)
    assert model.source == "taps" and model.num_paths == NUM.fft_size
    sionna.phy.config.seed = 7
    a, tau = model(3, 1, 1.0)
    sionna.phy.config.seed = 7
    from lasco_sionna.channels import DatasetChannel
    want = DatasetChannel(ds, 2)(3).numpy()
    f = subcarrier_frequencies(NUM.fft_size, NUM.subcarrier_spacing)
    h = cir_to_ofdm_channel(f, a, tau).numpy()
    assert np.max(np.abs(h - want)) < 1e-4 * np.max(np.abs(want))

    # CIRDataset from a generator of our dataset's impulse responses
    def generator():
        while True:
            a, tau = model(1, 14, None)
            yield a[0], tau[0]
    cir = CIRDataset(generator, 2, 2, 1, 1, 4, model.num_paths, 14)
    rg = ResourceGrid(num_ofdm_symbols=14, fft_size=NUM.fft_size,
                      subcarrier_spacing=NUM.subcarrier_spacing)
    h = GenerateOFDMChannel(cir, rg)()
    assert h.shape == (2, 2, 1, 1, 4, 14, NUM.fft_size)
    np.testing.assert_allclose(per_ue_energy(h), 1.0, rtol=1e-3)


def test_num_ue_ant_keeps_default_cache_keys_and_reports_per_antenna(tmp_path):
    one = small("cdl-c")
    assert small("cdl-c", num_ue_ant=1).config_hash() == one.config_hash()
    assert "num_ue_ant" not in one.config()["params"]
    two = small("tdl-a", num_ue_ant=2)
    assert two.config()["params"]["num_ue_ant"] == 2
    ds = build_dataset(two, 6, cache_dir=str(tmp_path), progress=False)
    assert ds.h.shape == (6, 1, 2, 1, 4, 1, NUM.fft_size)
    np.testing.assert_allclose(per_ue_energy(ds.h), 1.0, rtol=1e-4)
    hm = ds.as_matrix()
    assert hm.shape == (6, 2, 4, NUM.fft_size)
    # Each UE antenna's channel is its own report
    csi = QuantizedCSI(4, NUM.fft_size, 16 + 2 * 4 * 16 * 3, num_taps=16)
    assert csi(hm).shape == hm.shape
    assert csi.encode(hm).shape == (6, 2, csi.payload_bits)
    with pytest.raises(ValueError, match="num_ue_ant"):
        small("cdl-c", num_ue_ant=0)


def test_accepts_what_sionna_hands_over():
    arr = AntennaArray(num_rows=1, num_cols=4, polarization="single",
                       polarization_type="V", antenna_pattern="38.901",
                       carrier_frequency=3.5e9)
    assert tf.is_tensor(arr.num_ant)
    csi = get_csi_feedback("perfect", arr.num_ant, tf.constant(32))
    assert csi.num_bs_ant == 4 and csi.fft_size == 32
    assert TypeICodebookCSI(arr.num_ant, 32, num_subbands=4).num_bs_ant == 4
    # complex128 in: cast to the path's precision (said in the docstrings)
    h = np.random.default_rng(0).standard_normal([2, 4, 32]) * (1 + 1j)
    assert h.dtype == np.complex128
    assert csi(h).dtype == tf.complex64
    assert PerfectCSI(4, 32, precision="double")(h).dtype == tf.complex128
    x, _ = csi_image(h, num_taps=8)
    assert x.dtype == tf.float32
    assert csi_image(h, num_taps=8, precision="double")[0].dtype == tf.float64
    # Type I assumes a single-polarised ULA
    for pol in ("dual", "cross"):
        with pytest.raises(ValueError, match="single-polarised"):
            TypeICodebookCSI(8, 32, num_subbands=4, polarization=pol)
    # ... also when the polarisation comes from the link's BS array
    ctx = CSIContext(bs_array={"num_cols": 4, "polarization": "dual"})
    with pytest.raises(ValueError, match="single-polarised"):
        get_csi_feedback("type1", 8, 32, context=ctx)
    assert get_csi_feedback("type1", 8, 32, context=CSIContext(
        bs_array={"num_cols": 8})).num_bs_ant == 8


def test_realistic_multiuser_mimo_tutorial_with_our_umi():
    """Realistic_Multiuser_MIMO_Simulations: uplink LS + LMMSE + LDPC, then
    the downlink with RZF, our UMi in place of Sionna's (4 UEs, 8 BS ports)"""
    sionna.phy.config.seed = 42
    num_ut, batch_size = 4, 4
    env = get_environment("umi", numerology=Numerology(fft_size=64),
                          bs_array=BSArray(num_cols=4, polarization="dual"))
    rx_tx_association = np.ones([1, num_ut])
    sm = StreamManagement(rx_tx_association, 1)
    rg = ResourceGrid(num_ofdm_symbols=14, fft_size=64, subcarrier_spacing=30e3,
                      num_tx=num_ut, num_streams_per_tx=1,
                      cyclic_prefix_length=20, pilot_pattern="kronecker",
                      pilot_ofdm_symbol_indices=[2, 11])
    n = int(rg.num_data_symbols * 2)
    encoder = LDPC5GEncoder(n // 2, n)
    decoder = LDPC5GDecoder(encoder, hard_out=True)
    mapper, demapper = Mapper("qam", 2), Demapper("app", "qam", 2)
    ofdm_channel = OFDMChannel(as_channel_model(env, num_ut,
                                                direction="uplink"), rg,
                               add_awgn=True, normalize_channel=False,
                               return_channel=True)
    no = ebnodb2no(10.0, 2, 0.5, rg)
    b = BinarySource()([batch_size, num_ut, 1, encoder.k])
    x_rg = ResourceGridMapper(rg)(mapper(encoder(b)))
    y, h = ofdm_channel(x_rg, no)
    assert h.shape[1:5] == (1, 8, num_ut, 1)
    h_hat, err_var = LSChannelEstimator(rg, interpolation_type="nn")(y, no)
    x_hat, no_eff = LMMSEEqualizer(rg, sm)(y, h_hat, err_var, no)
    ber = float(compute_ber(b, decoder(demapper(x_hat, no_eff))))
    assert ber < 0.01, ber
    # Downlink: the BS precodes with RZF on the same kind of channel
    rg_dl = ResourceGrid(num_ofdm_symbols=14, fft_size=64,
                         subcarrier_spacing=30e3, num_tx=1,
                         num_streams_per_tx=num_ut, cyclic_prefix_length=20,
                         pilot_pattern="kronecker",
                         pilot_ofdm_symbol_indices=[2, 11])
    sm_dl = StreamManagement(np.ones([num_ut, 1]), num_ut)
    h_dl = GenerateOFDMChannel(as_channel_model(env, num_ut), rg_dl)(batch_size)
    assert h_dl.shape[1:5] == (num_ut, 1, 1, 8)
    b = BinarySource()([batch_size, 1, num_ut, encoder.k])
    x_rg = ResourceGridMapper(rg_dl)(mapper(encoder(b)))
    x_pre, h_eff = RZFPrecoder(rg_dl, sm_dl, return_effective_channel=True)(
        x_rg, h_dl, alpha=0.01)
    y = ApplyOFDMChannel(add_awgn=True)(x_pre, h_dl, no)
    x_hat, no_eff = LMMSEEqualizer(rg_dl, sm_dl)(y, h_eff, 0., no)
    ber = float(compute_ber(b, decoder(demapper(x_hat, no_eff))))
    assert ber < 0.01, ber


def test_rt_pusch_tutorial_with_four_ue_antennas(tmp_path):
    """Link_Level_Simulations_with_RT: PUSCH uplink, 4 UEs with 4 antennas,
    16 BS ports, our ray-traced dataset in place of the tutorial's CIRs"""
    env = get_environment("rt-simple_street_canyon",
                          numerology=Numerology(fft_size=48),
                          bs_array=BSArray(num_cols=8, polarization="dual"),
                          num_ue_ant=4, samples_per_src=20000, max_depth=2,
                          cir_paths=16, bs_look_at=[0.0, 0.0, 1.5])
    assert env.config()["params"]["bs_look_at"] == [[0.0, 0.0, 1.5]]
    ds = build_dataset(env, 4, num_time_steps=14,
                       sampling_frequency=1 / 35.7e-6, cache_dir=str(tmp_path),
                       progress=False)
    assert ds.h.shape == (4, 1, 4, 1, 16, 14, 48)
    assert ds.extras["cir_a"].shape == (4, 4, 16, 16, 14)
    model = as_channel_model(ds, 4, direction="uplink")
    a, tau = model(2, 14, None)
    assert a.shape == (2, 1, 16, 4, 4, 16, 14) and tau.shape == (2, 1, 4, 16)

    pusch_config = PUSCHConfig()
    pusch_config.carrier.subcarrier_spacing = 30
    pusch_config.carrier.n_size_grid = 4
    pusch_config.num_antenna_ports = 4
    pusch_config.num_layers = 1
    pusch_config.precoding = "codebook"
    pusch_config.tpmi = 1
    pusch_config.dmrs.dmrs_port_set = [0]
    pusch_config.dmrs.config_type = 1
    pusch_config.dmrs.length = 1
    pusch_config.dmrs.additional_position = 1
    pusch_config.dmrs.num_cdm_groups_without_data = 2
    pusch_config.tb.mcs_index = 14
    pusch_config.tb.mcs_table = 1
    pusch_configs = [pusch_config]
    for i in range(1, 4):
        pc = pusch_config.clone()
        pc.dmrs.dmrs_port_set = [i]
        pusch_configs.append(pc)
    tx = PUSCHTransmitter(pusch_configs, output_domain="freq")
    sm = StreamManagement(np.ones([1, 4], bool), 1)
    detector = LinearDetector(equalizer="lmmse", output="bit",
                              demapping_method="maxlog",
                              resource_grid=tx.resource_grid,
                              stream_management=sm, constellation_type="qam",
                              num_bits_per_symbol=pusch_config.tb.num_bits_per_symbol)
    rx = PUSCHReceiver(tx, mimo_detector=detector, input_domain="freq",
                       channel_estimator="perfect")
    channel = OFDMChannel(model, tx.resource_grid, normalize_channel=True,
                          return_channel=True)
    x, b = tx(2)
    no = ebnodb2no(30.0, tx._num_bits_per_symbol, tx._target_coderate,
                   tx.resource_grid)
    y, h = channel(x, no)
    b_hat = rx(y, no, h)
    assert b_hat.shape == b.shape
    assert float(compute_ber(b, b_hat)) < 0.05


def test_explicit_parameters_win_over_the_context():
    from lasco_sionna.csi.feedback import fill_from_context  # noqa: PLC0415
    ctx = CSIContext(environment="cdl-c", bs_array={"num_cols": 8},
                     feedback_delay=2)
    assert fill_from_context(ctx, environment=None, feedback_delay=3,
                             numerology=None) == {
        "environment": "cdl-c", "feedback_delay": 3, "numerology": None}
    assert fill_from_context(None, environment=None) == {"environment": None}
