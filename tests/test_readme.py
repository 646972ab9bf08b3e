"""The README's Python examples run as written"""

import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]

RUNNER = r'''
import sys, traceback
blocks = {blocks!r}
for i, code in enumerate(blocks):
    try:
        exec(compile(code, f"README.md python block {{i}}", "exec"), {{}})
    except Exception:
        traceback.print_exc()
        print(f"README python block {{i}} failed:\n{{code}}", file=sys.stderr)
        sys.exit(1)
    print(f"block {{i}} ok", flush=True)
'''


def python_blocks(text):
    """The fenced ```python blocks of a Markdown text, in order"""
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_python_blocks_are_found():
    blocks = python_blocks("a\n```python\nx = 1\n```\n```bash\nls\n```\n"
                           "```python\ny = 2\n```\n")
    assert blocks == ["x = 1\n", "y = 2\n"]


@pytest.mark.slow
def test_readme_examples_run_as_written():
    blocks = python_blocks((ROOT / "README.md").read_text())
    assert len(blocks) >= 4, "README lost its examples"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", RUNNER.format(blocks=blocks)],
                         cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=1500, check=False)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-5000:]
    assert out.stdout.count(" ok") == len(blocks)
