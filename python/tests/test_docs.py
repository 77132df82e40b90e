"""The Python examples of docs/python.md run, and print what the document says they print."""

import re

import numpy as np
import pytest

import tpc
from conftest import ROOT

DOC = (ROOT / "docs" / "python.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", DOC, flags=re.S)


def test_the_document_has_its_examples():
    assert len(BLOCKS) >= 5
    assert any("neural_tangents" in b for b in BLOCKS)


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_every_example_runs(index, tmp_path, monkeypatch):
    block = BLOCKS[index]
    if "neural_tangents" in block:
        pytest.skip("shown beside neural-tangents, which needs JAX: not a dependency")
    x = np.random.default_rng(index).standard_normal((20, 3))
    np.savetxt(tmp_path / "inputs.txt", x)
    monkeypatch.chdir(ROOT)
    code = block.replace('"inputs.txt"', repr(str(tmp_path / "inputs.txt")))
    exec(compile(code, f"docs/python.md block {index}", "exec"), {})


def test_the_mup_example_prints_the_stated_values():
    limits = tpc.compile(
        tpc.gen_mlp(depth=2, param="mup", steps=1, nonlin="tanh",
                    inputs=[[1, 0]], targets=[1], eval=[[0.5, -1]])
    ).eval()
    f = limits["f"]
    # The document gives 4 digits; quadrature's error estimates are ~1e-5 (the notes).
    np.testing.assert_allclose(f.value, [[0, 0], [0.5617, 0.2876]], atol=1e-4)
    assert abs(limits["fc1"].value[0] - 0.0316) < 1e-4
