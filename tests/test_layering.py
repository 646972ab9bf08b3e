"""One-way layering: no module imports a higher layer; registries let higher layers plug in"""

import ast
import json
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lasco_sionna"

#: Subpackage -> layer; a module may import its own subpackage and lower
#: layers only. ``sweep`` is generic: it may import ``utils`` only.
LAYERS = {"utils": 0, "channels": 1, "csi": 1, "models": 2, "collab": 3,
          "precoding": 3, "prediction": 3, "link": 4}
GENERIC = {"sweep": {"utils"}}
#: The older name of the link's sweep evaluator, kept for configs (the sweep
#: package itself never imports it)
ALIASES = {"lasco_sionna/sweep/link_point.py": {"link"}}


def imported_subpackages(path):
    """Subpackages of lasco_sionna imported anywhere in a module (module
    level or inside functions)"""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 \
                and node.module:
            names = [node.module]
        elif isinstance(node, ast.ImportFrom):
            raise AssertionError(f"{path}: relative import")
        for name in names:
            parts = name.split(".")
            if parts[0] == "lasco_sionna" and len(parts) > 1:
                found.add(parts[1])
    return found


def allowed(package):
    """Subpackages ``package`` may import"""
    if package in GENERIC:
        return GENERIC[package] | {package}
    return {p for p, layer in LAYERS.items()
            if layer < LAYERS[package]} | {package}


def test_every_subpackage_has_a_layer():
    subpackages = {p.name for p in PACKAGE.iterdir()
                   if (p / "__init__.py").exists()}
    assert subpackages == set(LAYERS) | set(GENERIC)


def test_no_module_imports_a_higher_layer():
    bad = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        parts = path.relative_to(PACKAGE).parts
        if len(parts) == 1:
            continue             # lasco_sionna/__init__.py: lazy attributes
        extra = ALIASES.get(rel, set())
        wrong = imported_subpackages(path) - allowed(parts[0]) - extra
        if wrong:
            bad.append(f"{rel} imports {sorted(wrong)}")
    assert not bad, "upward imports:\n" + "\n".join(bad)


def test_the_layering_test_catches_an_upward_import(tmp_path):
    # The checker itself: csi importing collab (inside a function) is caught
    path = tmp_path / "mod.py"
    path.write_text("def f():\n    from lasco_sionna.collab import adapt\n")
    assert imported_subpackages(path) - allowed("csi") == {"collab"}


def run_python(code):
    """Run ``code`` in a fresh interpreter -> its JSON output"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True,
                         capture_output=True, text=True, timeout=300)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_perfect_csi_path_does_not_import_higher_layers():
    mods = run_python(
        "import json, sys\n"
        "from lasco_sionna.csi import get_csi_feedback, list_csi_feedback\n"
        "csi = get_csi_feedback('perfect', 4, 8)\n"
        "names = list_csi_feedback()\n"
        "assert {'pretrained', 'adapted', 'perfect'} <= set(names), names\n"
        "print(json.dumps(sorted(m for m in sys.modules\n"
        "                        if m.startswith('lasco_sionna.'))))\n")
    loaded = {m.split(".")[1] for m in mods}
    assert not loaded & {"models", "collab", "link", "precoding", "channels"}, mods


def test_higher_layers_register_their_csi_paths_when_asked_for():
    mods = run_python(
        "import json, sys\n"
        "from lasco_sionna.csi import get_csi_feedback\n"
        "csi = get_csi_feedback({'name': 'pretrained', 'model': 'lam-tiny'},"
        " 32, 64)\n"
        "assert 'lasco_sionna.collab' not in sys.modules\n"
        "print(json.dumps(sorted(sys.modules)))\n")
    assert "lasco_sionna.models.csi_path" in mods


def test_importing_the_sweep_package_imports_no_sionna_or_tensorflow():
    mods = run_python("import json, sys\nimport lasco_sionna.sweep\n"
                      "import lasco_sionna.sweep.plots\n"
                      "print(json.dumps(sorted(sys.modules)))\n")
    heavy = [m for m in mods if m.split(".")[0] in ("sionna", "tensorflow",
                                                    "keras")]
    assert not heavy, heavy


def test_context_reaches_context_aware_csi_paths_only():
    from lasco_sionna.csi import CSIContext, PerfectCSI, get_csi_feedback
    from lasco_sionna.csi.feedback import _REGISTRY, register_csi_feedback
    seen = {}

    def factory(num_bs_ant, fft_size, precision=None, context=None):
        seen["context"] = context
        return PerfectCSI(num_bs_ant, fft_size, precision=precision)

    register_csi_feedback("_test_context", factory, uses_context=True)
    try:
        ctx = CSIContext(environment="cdl-e", numerology={"fft_size": 8})
        get_csi_feedback("_test_context", 4, 8, context=ctx)
        assert seen["context"] is ctx
        # Other paths ignore it
        assert isinstance(get_csi_feedback("perfect", 4, 8, context=ctx),
                          PerfectCSI)
        with pytest.raises(TypeError, match="must be a CSIContext"):
            get_csi_feedback("perfect", 4, 8, context={"environment": "x"})
    finally:
        del _REGISTRY["_test_context"]


def test_importing_the_plots_keeps_the_users_matplotlib_backend():
    backend = run_python(
        "import json, matplotlib\nmatplotlib.use('svg')\n"
        "import lasco_sionna.sweep.plots\n"
        "print(json.dumps(matplotlib.get_backend()))\n")
    assert backend == "svg"
