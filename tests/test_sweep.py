"""Sweeps: config validation, expansion, atomic per-point results, resume, plots, Ray"""

import os

import pandas as pd
import pytest
import yaml
from scipy.stats import binom

from lasco_sionna.sweep import expand, load_config, parse_config, run_sweep
from lasco_sionna.sweep.cli import format_table, main
from lasco_sionna.sweep.plots import plot_results, zero_error_floor
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
    ({"seed": -1}, "`seed` must be an integer >= 0, got -1"),
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


def test_failed_point_keeps_finished_ones(tmp_path):
    cfg = parse_config(toy(tmp_path, evaluator=f"{__name__}:failing_evaluator",
                           fixed={}))
    with pytest.raises(PointError, match="diverged"):
        run_sweep(cfg, progress=False)
    table = pd.read_csv(tmp_path / "out" / "results.csv")
    assert len(table) == 1 and table.ebno_db[0] == 0.0


def test_mismatching_config_is_refused(tmp_path):
    run_sweep(parse_config(toy(tmp_path)), progress=False)
    changed = parse_config(toy(tmp_path, seed=99))
    with pytest.raises(ValueError, match="different sweep.*--overwrite"):
        run_sweep(changed, progress=False)
    table = run_sweep(changed, overwrite=True, progress=False)
    assert len(table) == 4
    # Changing only the plots is not a different sweep
    run_sweep(parse_config(toy(tmp_path, seed=99, plots={})), progress=False)


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


def test_zero_error_floor():
    y, at_floor = zero_error_floor([0.5, 0.0, 0.0], [10, 256, 512])
    assert list(y) == [0.5, 1 / 256, 1 / 512]
    assert list(at_floor) == [False, True, True]
    with pytest.raises(ValueError, match=r"`trials` must be > 0 .*\[0.0\]"):
        zero_error_floor([0.0], [0])


def test_plots_mark_zero_errors_and_label_lines(tmp_path, monkeypatch):
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
    figures = []
    monkeypatch.setattr("lasco_sionna.sweep.plots.plt.close", figures.append)
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
