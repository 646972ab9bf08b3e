"""Sweeps: config validation, expansion, atomic per-point results, resume, plots, Ray"""

import os

import pandas as pd
from matplotlib.figure import Figure
import pytest
import yaml
from scipy.stats import binom

from lasco_sionna.sweep import (ResultStore, expand, load_config,
                                parse_config, run_sweep)
from lasco_sionna.sweep.cli import format_table, main
from lasco_sionna.sweep.plots import (line_styles, plot_results,
                                     zero_error_floor)
from lasco_sionna.utils.executors import PointError

TOY = {"name": "toy", "seed": 3,
       "evaluator": "lasco_sionna.sweep.toy:evaluate_point",
       "fixed": {"num_bits": 20000},
       "grid": {"modulation": ["bpsk", "qpsk"], "ebno_db": [0.0, 4.0]},
       "plots": {"x": "ebno_db", "y": ["ber"], "hue": ["modulation"],
                 "logy": ["ber"]}}

#: Counts calls per process (the local executor runs in this process)
CALLS = []


def counting_evaluator(point):
    """Toy evaluator that records its calls"""
    from lasco_sionna.sweep.toy import evaluate_point  # noqa: PLC0415
    CALLS.append(point["point_id"])
    return evaluate_point(point)


def failing_evaluator(point):
    if point["ebno_db"] > 2:
        raise ArithmeticError("diverged")
    return {"ber": 0.1}


def echo_evaluator(point):
    """Returns metrics named like a parameter and like the point id"""
    return {"ber": 0.1, "modulation": "8psk", "point_id": "x"}


def write(tmp_path, cfg, name="sweep.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(cfg))
    return str(path)


def toy(tmp_path, **changes):
    return {**TOY, "output": str(tmp_path / "out"), **changes}


@pytest.mark.parametrize("change,match", [
    ({"colour": "red"}, r"unknown key\(s\) \['colour'\]; allowed: name"),
    ({"evaluator": "no_colon"}, "'module:function', got 'no_colon'"),
    ({"grid": {}}, "non-empty mapping"),
    ({"grid": {"ebno_db": 3.0}}, "grid values of 'ebno_db' must be a "
                                 "non-empty list, got 3.0"),
    ({"fixed": {"ebno_db": 1.0}}, r"\['ebno_db'\] appear in both"),
    ({"seed": -1}, r"`seed` must be a finite integer in \[0, 4294967295\], "
                   "got -1"),
    ({"seed": 2 ** 32}, r"`seed` must be a finite integer in"),
    ({"grid": {"ebno_db": [0.0, float("nan")]}},
     r"`grid.ebno_db` holds nan; parameters must be finite"),
    ({"fixed": {"csi": {"name": "q", "scale": float("inf")}}},
     r"`fixed.csi` holds .*inf"),
    ({"plots": {"x": "ebno_db", "hue": ["modulaton"]}},
     r"plot hue='modulaton' is not a parameter of the sweep; allowed: "
     "num_bits, modulation, ebno_db, seed"),
    ({"plots": {"x": "ebno_db", "facet": "ber", "y": ["ber"]}},
     r"plot facet='ber' is not a parameter"),
    ({"plots": {"x": "ebno_db", "y": ["ber"], "logy": ["bler"]}},
     r"plot logy \['bler'\] must be among y"),
    ({"plots": {"x": "ebno_db", "z": 1}}, r"unknown plot key\(s\) \['z'\]"),
    ({"grid": {"seed": [1, 2]}}, "'seed' is set per point"),
    ({"paired": ["csi"]}, r"`paired` must be a list of grid keys "
                          r"\(modulation, ebno_db\), got \['csi'\]"),
    ({"plots": {"labels": {"modulation": ["BPSK"]}}},
     r"plots.labels.modulation must be 2 distinct names, one per value of "
     r"grid key 'modulation', got \['BPSK'\]"),
    ({"plots": {"labels": {"csi": ["a"]}}}, "'csi' is not a grid key"),
    ({"plots": {"labels": {"ber": 3}}}, "must be a list .* or a string"),
])
def test_config_validation(change, match):
    with pytest.raises(ValueError, match=match):
        parse_config({**TOY, **change})


def test_malformed_and_missing_files(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n  grid: {")
    with pytest.raises(ValueError, match="malformed YAML"):
        load_config(str(bad))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_config(str(tmp_path / "nope.yaml"))
    missing = {k: v for k, v in TOY.items() if k != "grid"}
    with pytest.raises(ValueError, match="missing required key 'grid'"):
        parse_config(missing)
    assert main([str(bad)]) == 2
    with pytest.raises(ValueError, match="cannot load evaluator"):
        run_sweep(parse_config(toy(tmp_path, evaluator="nosuch.mod:f")),
                  progress=False)


def test_expansion_ids_and_seeds_are_stable(tmp_path):
    points = expand(parse_config(TOY))
    assert len(points) == 4
    assert len({p["point_id"] for p in points}) == 4
    # Reordering the grid keys changes neither ids nor seeds
    reordered = {**TOY, "grid": {"ebno_db": [4.0, 0.0],
                                 "modulation": ["qpsk", "bpsk"]}}
    again = {p["point_id"]: p["seed"] for p in expand(parse_config(reordered))}
    assert again == {p["point_id"]: p["seed"] for p in points}
    other_seed = expand(parse_config({**TOY, "seed": 4}))
    assert [p["seed"] for p in other_seed] != [p["seed"] for p in points]
    # Paired keys share draws: the seed depends on Eb/N0 only
    paired = expand(parse_config({**TOY, "paired": ["modulation"]}))
    assert [p["point_id"] for p in paired] == [p["point_id"] for p in points]
    by_ebno = {}
    for p in paired:
        by_ebno.setdefault(p["ebno_db"], set()).add(p["seed"])
    assert [len(s) for s in by_ebno.values()] == [1, 1]
    assert len({s for v in by_ebno.values() for s in v}) == 2


def test_end_to_end_matches_theory_and_plots(tmp_path):
    cfg = write(tmp_path, toy(tmp_path))
    assert main([cfg, "--set", "fixed.num_bits=40000"]) == 0
    table = pd.read_csv(tmp_path / "out" / "results.csv")
    assert len(table) == 4 and set(table.modulation) == {"bpsk", "qpsk"}
    assert (table.num_bits == 40000).all()
    for _, row in table.iterrows():
        lo, hi = binom.interval(0.999, row.num_bits, row.ber_theory)
        assert lo <= row.ber * row.num_bits <= hi, row.to_dict()
    assert os.path.getsize(tmp_path / "out" / "ber.png") > 1000
    assert yaml.safe_load((tmp_path / "out" / "config.yaml").read_text())[
        "fixed"]["num_bits"] == 40000


def test_resume_skips_finished_points(tmp_path):
    cfg = parse_config(toy(tmp_path, evaluator=f"{__name__}:counting_evaluator"))
    CALLS.clear()
    first = run_sweep(cfg, max_points=3, progress=False)       # "killed"
    assert len(first) == 3 and len(CALLS) == 3
    full = run_sweep(cfg, progress=False)
    assert len(full) == 4 and len(CALLS) == 4                   # 1 new point
    assert sorted(CALLS) == sorted(full.point_id)
    pd.testing.assert_frame_equal(full.iloc[:3], first)


def test_failed_point_is_recorded_and_the_others_run(tmp_path):
    cfg = parse_config(toy(tmp_path, evaluator=f"{__name__}:failing_evaluator",
                           fixed={}, grid={"ebno_db": [0.0, 4.0, 1.0]},
                           plots={}))
    with pytest.raises(PointError, match=r"(?s)1 of 3 point\(s\) failed .*"
                                         r"failures.csv.*ArithmeticError: "
                                         "diverged"):
        run_sweep(cfg, progress=False)
    table = pd.read_csv(tmp_path / "out" / "results.csv")
    assert sorted(table.ebno_db) == [0.0, 1.0]
    failures = pd.read_csv(tmp_path / "out" / "failures.csv")
    assert list(failures.ebno_db) == [4.0]
    assert failures.error[0] == "ArithmeticError: diverged"
    assert "Traceback" in failures.traceback[0]
    # On resume only the failed point runs again; it is still failing
    with pytest.raises(PointError, match="1 of 1 point"):
        run_sweep(cfg, progress=False)
    assert len(pd.read_csv(tmp_path / "out" / "failures.csv")) == 1
    # The CLI finishes, prints the table and exits non-zero
    path = write(tmp_path, toy(tmp_path, evaluator=f"{__name__}:"
                               "failing_evaluator", fixed={},
                               grid={"ebno_db": [0.0, 4.0, 1.0]}, plots={}))
    assert main([path, "--no-plots"]) == 1
    # Once it succeeds, it leaves failures.csv
    store = ResultStore(cfg)
    point = next(p for p in expand(cfg) if p["ebno_db"] == 4.0)
    store.record(point, {"ber": 0.2}, 1.0)
    assert store.failures().empty and len(store.table()) == 3
    assert pd.read_csv(tmp_path / "out" / "failures.csv").empty


def test_metric_may_not_overwrite_a_parameter(tmp_path):
    cfg = parse_config(toy(tmp_path, evaluator=f"{__name__}:echo_evaluator",
                           plots={}))
    with pytest.raises(PointError, match=r"(?s)4 of 4 point.*metric\(s\) "
                                         r"\['modulation', 'point_id'\]"):
        run_sweep(cfg, progress=False)
    assert not os.path.exists(tmp_path / "out" / "results.csv")
    assert len(pd.read_csv(tmp_path / "out" / "failures.csv")) == 4


def test_duplicate_grid_values_are_one_point(tmp_path):
    cfg = parse_config(toy(tmp_path, grid={"ebno_db": [0, 0.0, 0, 2, 2.0],
                                           "modulation": ["bpsk", "bpsk"]}))
    points = expand(cfg)
    assert [p["ebno_db"] for p in points] == [0, 2]
    assert len(run_sweep(cfg, progress=False, plots=False)) == 2


def test_max_points_is_validated(tmp_path):
    cfg = parse_config(toy(tmp_path))
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match="`max_points` must be"):
            run_sweep(cfg, max_points=bad, progress=False)
    path = write(tmp_path, toy(tmp_path))
    for bad in ("0", "-2", "x"):
        with pytest.raises(SystemExit):
            main([path, "--max-points", bad])
    assert not os.path.exists(tmp_path / "out" / "results.csv")


def test_truncated_or_garbage_results_and_stray_tmp_files(tmp_path):
    cfg = parse_config(toy(tmp_path,
                           evaluator=f"{__name__}:counting_evaluator"))
    full = run_sweep(cfg, progress=False, plots=False)
    csv = tmp_path / "out" / "results.csv"
    text = csv.read_text()
    csv.write_text(text[:-25])                     # last row cut mid-way
    stray = tmp_path / "out" / "results.csv.abc123.tmp"
    stray.write_text("half a table")               # a write killed by SIGKILL
    CALLS.clear()
    with pytest.warns(UserWarning, match=r"results.csv: 1 incomplete row"):
        again = run_sweep(cfg, progress=False, plots=False)
    assert CALLS == [full.point_id.iloc[-1]]
    assert len(again) == 4 and not stray.exists()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "config.yaml", "results.csv"]
    # A table whose row lost its line end is also redone
    csv.write_text(text.rstrip("\n"))
    with pytest.warns(UserWarning, match="incomplete row"):
        assert len(ResultStore(cfg).table()) == 3
    for garbage in (b"\x89PNG\r\n\x1a\n\x00\xff\xfe", b"a,b\n1,2\n"):
        csv.write_bytes(garbage)
        with pytest.raises(ValueError, match=f"{csv} is not a CSV table of "
                                             "sweep points.*--overwrite"):
            run_sweep(cfg, progress=False)
    assert len(run_sweep(cfg, overwrite=True, progress=False,
                         plots=False)) == 4


def test_unknown_plot_metric_fails_before_the_run(tmp_path):
    cfg = parse_config(toy(tmp_path, plots={"x": "ebno_db", "y": ["bler"]}))
    with pytest.raises(ValueError, match="plot y='bler' is not a parameter or "
                                         "metric.*ber, ber_theory"):
        run_sweep(cfg, progress=False)
    assert not os.path.exists(tmp_path / "out")
    # Without plots the sweep runs
    assert len(run_sweep(cfg, progress=False, plots=False)) == 4


def test_link_sweep_configs_plot_declared_metrics():
    from lasco_sionna.sweep.config import check_plots  # noqa: PLC0415
    link_metrics = ("ber", "bler", "num_bits", "num_blocks", "goodput_bps",
                    "goodput_bps_per_hz", "sum_rate", "min_rate", "sinr_db",
                    "csi_nmse_db", "feedback_bits_per_user")
    configs = os.path.join(os.path.dirname(__file__), "..", "sims", "configs")
    for name in ("quickstart", "lasco_link", "lasco_link_ft", "toy",
                 "prediction_link", "prediction_link_paths"):
        cfg = load_config(os.path.join(configs, f"{name}.yaml"))
        metrics = ("ber", "ber_theory") if name == "toy" else link_metrics
        check_plots(cfg.plots, list(cfg.fixed) + list(cfg.grid), metrics)


def test_mismatching_config_is_refused(tmp_path):
    run_sweep(parse_config(toy(tmp_path)), progress=False)
    changed = parse_config(toy(tmp_path, seed=99))
    with pytest.raises(ValueError, match="different sweep.*--overwrite"):
        run_sweep(changed, progress=False)
    table = run_sweep(changed, overwrite=True, progress=False)
    assert len(table) == 4
    # Changing only the plots is not a different sweep
    run_sweep(parse_config(toy(tmp_path, seed=99, plots={})), progress=False)


@pytest.mark.slow
def test_ray_executor_matches_local(tmp_path):
    ray = pytest.importorskip("ray")
    local = run_sweep(parse_config(toy(tmp_path)), progress=False,
                      plots=False)
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        remote = run_sweep(parse_config(toy(tmp_path / "ray")),
                           executor="ray", progress=False, plots=False)
    finally:
        ray.shutdown()
    cols = ["point_id", "seed", "modulation", "ebno_db", "ber"]
    pd.testing.assert_frame_equal(
        local[cols].sort_values("point_id").reset_index(drop=True),
        remote[cols].sort_values("point_id").reset_index(drop=True))


def test_cli_overrides_and_bad_executor(tmp_path):
    cfg = write(tmp_path, toy(tmp_path))
    assert main([cfg, "--set", "grid.ebno_db=[1.0]", "--no-plots"]) == 0
    table = pd.read_csv(tmp_path / "out" / "results.csv")
    assert list(table.ebno_db) == [1.0, 1.0]
    assert not os.path.exists(tmp_path / "out" / "ber.png")
    with pytest.raises(SystemExit):
        main([cfg, "--executor", "spark"])
    with pytest.raises(ValueError, match="key=value"):
        load_config(cfg, ["seed"])
    with pytest.raises(ValueError, match="unknown key 'colour'"):
        load_config(cfg, ["colour=red"])
    with pytest.raises(ValueError, match=r"override 'grid.ebno_db=\[0, 1'"
                                         ": the value is not valid YAML"):
        load_config(cfg, ["grid.ebno_db=[0, 1"])
    assert main([cfg, "--set", "grid.ebno_db=[0, 1"]) == 2


def test_zero_error_floor():
    y, at_floor = zero_error_floor([0.5, 0.0, 0.0], [10, 256, 512])
    assert list(y) == [0.5, 1 / 256, 1 / 512]
    assert list(at_floor) == [False, True, True]
    with pytest.raises(ValueError, match=r"`trials` must be > 0 .*\[0.0\]"):
        zero_error_floor([0.0], [0])


@pytest.fixture
def figures(monkeypatch):
    """The figures plot_results draws, in order"""
    drawn = []

    class Recorded(Figure):
        """A Figure that records itself"""
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            drawn.append(self)

    monkeypatch.setattr("lasco_sionna.sweep.plots.Figure", Recorded)
    return drawn


def test_plots_mark_zero_errors_and_label_lines(tmp_path, figures):
    """Zero-BLER points stay on the log plot at 1/blocks, marked and
    explained in the legend; lines are named by ``labels`` + ``legend``,
    in grid order"""
    cfg = parse_config({
        "name": "p", "evaluator": "m:f", "output": str(tmp_path),
        "grid": {"csi": ["perfect", {"name": "type1", "oversampling": 4}],
                 "ebno_db": [0.0, 5.0]},
        "plots": {"x": "ebno_db", "y": ["bler"], "hue": ["csi"],
                  "logy": ["bler"], "resolution": {"bler": "num_blocks"},
                  "legend": "{csi} ({feedback_bits_per_user:.0f} bits)",
                  "labels": {"csi": ["perfect CSI", "Type I"],
                             "ebno_db": "Eb/N0 [dB]"}}})
    table = pd.DataFrame({
        "csi": ["type1(oversampling=4)"] * 2 + ["perfect"] * 2,
        "ebno_db": [0.0, 5.0] * 2, "bler": [0.5, 0.0, 0.0, 0.0],
        "num_blocks": [64, 256, 256, 256],
        "feedback_bits_per_user": [88] * 2 + [524288] * 2})
    assert plot_results(cfg.display(table), cfg.plots, str(tmp_path)) == [
        str(tmp_path / "bler.png")]
    ax = figures[0].axes[0]
    floors = [(tuple(line.get_xdata()), tuple(line.get_ydata()))
              for line in ax.lines
              if line.get_marker() == "v" and len(line.get_xdata())]
    assert sorted(floors) == [((0.0, 5.0), (1 / 256, 1 / 256)),
                              ((5.0,), (1 / 256,))]
    legend = [t.get_text() for t in figures[0].legends[0].texts]
    assert legend == ["perfect CSI (524288 bits)", "Type I (88 bits)",
                      "0 errors in 256 blocks (at 1/256)"]
    assert ax.get_xlabel() == "Eb/N0 [dB]"
    # Panels follow the grid's order, not the alphabet
    cfg.grid["env"] = ["umi", "cdl"]
    cfg.plots.update(facet="env", labels={**cfg.plots["labels"],
                                          "env": ["UMi", "CDL"]})
    both = pd.concat([table.assign(env="cdl"), table.assign(env="umi")])
    plot_results(cfg.display(both), cfg.plots, str(tmp_path))
    assert [a.get_title() for a in figures[1].axes] == ["UMi", "CDL"]


def test_two_hue_columns_get_colour_and_dash_apart(tmp_path, figures):
    """3 CSI paths x 4 precoders = 12 lines, more than the 10 colours:
    colour follows the CSI path, dash and marker the precoder, so no two
    lines look alike"""
    keys = [(c, p) for c in ("perfect", "etype2", "lam")
            for p in ("zf", "rzf", "wmmse", "maxmin")]
    styles = line_styles(keys)
    looks = {(s["color"], s["ls"], s["marker"]) for s in styles.values()}
    assert len(looks) == 12
    for c in ("perfect", "etype2", "lam"):
        assert len({styles[(c, p)]["color"] for p in
                    ("zf", "rzf", "wmmse", "maxmin")}) == 1
    assert len({styles[(c, "zf")]["color"] for c in
                ("perfect", "etype2", "lam")}) == 3
    assert {styles[(c, "rzf")]["ls"] for c in ("perfect", "lam")} == {"--"}
    # Three hue columns: the last one still tells lines apart
    three = line_styles([("a", "x", 1), ("a", "x", 2)])
    assert three[("a", "x", 1)] != three[("a", "x", 2)]
    # One hue column: a colour per line, solid
    one = line_styles([("a",), ("b",)])
    assert one[("a",)]["color"] != one[("b",)]["color"]
    assert {s["ls"] for s in one.values()} == {"-"}

    table = pd.DataFrame([{"csi": c, "precoder": p, "ebno_db": e,
                           "sum_rate": 1.0 + e}
                          for c, p in keys for e in (0.0, 10.0)])
    plot_results(table, {"x": "ebno_db", "y": ["sum_rate"],
                         "hue": ["csi", "precoder"]}, str(tmp_path))
    drawn = {(line.get_color(), line.get_linestyle(), line.get_marker())
             for line in figures[0].axes[0].lines if len(line.get_xdata())}
    assert len(drawn) == 12


def test_printed_table_names_values_and_keeps_grid_order():
    cfg = parse_config({
        "name": "p", "evaluator": "m:f", "table": ["bits", "bler"],
        "grid": {"csi": ["perfect", {"name": "type1", "oversampling": 4}],
                 "ebno_db": [0.0]},
        "plots": {"labels": {"csi": ["perfect CSI", "Type I"]}}})
    table = pd.DataFrame({"csi": ["type1(oversampling=4)", "perfect"],
                          "ebno_db": [0.0, 0.0], "bler": [0.25, 0.0],
                          "bits": [88.0, 524288.0], "sinr_db": [1.0, 2.0]})
    lines = format_table(cfg, table).splitlines()
    assert lines[0].split() == ["csi", "ebno_db", "bits", "bler"]
    assert lines[1].split() == ["perfect", "CSI", "0", "524288", "0"]
    assert lines[2].split() == ["Type", "I", "0", "88", "0.25"]
    with pytest.raises(ValueError, match=r"`table` columns \['rate'\] are "
                                         "not in the results"):
        format_table(parse_config({**cfg.to_dict(), "table": ["rate"]}),
                     table)


@pytest.mark.slow
def test_failed_points_on_ray_are_recorded(tmp_path):
    ray = pytest.importorskip("ray")
    cfg = parse_config(toy(tmp_path, grid={"modulation": ["bpsk", "8psk"],
                                           "ebno_db": [0.0, 4.0]}))
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        with pytest.raises(PointError, match=r"(?s)2 of 4 point.*ValueError: "
                                             r"`modulation`='8psk'"):
            run_sweep(cfg, executor="ray", progress=False, plots=False)
    finally:
        ray.shutdown()
    assert list(pd.read_csv(tmp_path / "out" / "results.csv").modulation) \
        == ["bpsk", "bpsk"]
    failures = pd.read_csv(tmp_path / "out" / "failures.csv")
    assert list(failures.modulation) == ["8psk", "8psk"]
    assert "Traceback" in failures.traceback[0]
