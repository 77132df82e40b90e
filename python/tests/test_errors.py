"""Exceptions and their messages: the CLI's diagnostics, numerical failures, bad arguments."""

import numpy as np
import pytest

import tpc
from conftest import ROOT


def test_program_error_is_the_cli_diagnostic(run_cli, tmp_path):
    path = tmp_path / "typo.tp"
    path.write_text("vector x ~ N(0, 1)\ny = tanhh(x)\nm = mean(y * x)\n")
    done = run_cli("check", path)
    assert done.returncode == 1
    with pytest.raises(tpc.ProgramError) as raised:
        tpc.compile(path)
    # The message is what the CLI prints on standard error (no colours off a terminal).
    assert str(raised.value) == done.stderr.rstrip("\n")
    assert raised.value.code == "E0113"
    assert "did you mean `tanh`?" in str(raised.value)
    assert "2 │ y = tanhh(x)" in str(raised.value)


def test_every_error_program_raises_what_the_cli_prints(run_cli):
    for path in sorted((ROOT / "tests" / "errors").glob("*.tp"))[:12]:
        done = run_cli("check", path)
        assert done.returncode == 1, path
        with pytest.raises(tpc.ProgramError) as raised:
            tpc.compile(path)
        assert str(raised.value) == done.stderr.rstrip("\n"), path


def test_numerical_failure_raises_evaluation_error():
    program = tpc.compile("vector x ~ N(0, 1)\nk = mean(x * x)\nj = log(k - 2)\n")
    with pytest.raises(tpc.EvaluationError) as raised:
        program.eval()
    assert raised.value.code == "E0401"
    assert "NaN" in str(raised.value) and "<string>:3:1" in str(raised.value)
    assert isinstance(raised.value, tpc.Error)


def test_bad_consts_are_refused():
    source = 'const X = load("X")\nvector h ~ N(0, X[0, 0])\nm = mean(h * h)\n'
    assert float(tpc.compile(source, consts={"X": [[2.0]]}).eval()["m"]) == 2.0
    with pytest.raises(tpc.ProgramError) as raised:
        tpc.compile(source, consts={"X": np.array([[np.nan]])})
    assert raised.value.code == "E0153"
    with pytest.raises(tpc.ProgramError) as raised:
        tpc.compile(source, consts={"X": np.zeros((0, 2))})
    assert raised.value.code == "E0157"
    assert "the array `X` given to the program" in str(raised.value)
    with pytest.raises(ValueError):
        tpc.compile(source, consts={"X": np.zeros((2, 2, 2))})
    with pytest.raises(tpc.ProgramError) as raised:
        tpc.compile(source, consts={"Y": np.ones((1, 1))})
    assert raised.value.code == "E0150"


def test_bad_arguments_raise_value_errors():
    program = tpc.compile("vector x ~ N(0, 1)\nm = mean(x * x)\n")
    with pytest.raises(ValueError, match="unknown method"):
        program.eval(method="fast")
    with pytest.raises(ValueError, match="tol"):
        program.eval(tol=0.0)
    with pytest.raises(ValueError, match="width 0"):
        program.simulate(widths=[0])
    with pytest.raises(ValueError, match="unknown nonlinearity"):
        tpc.kernel(np.eye(2), nonlin="rellu")
    with pytest.raises(ValueError, match="matrix"):
        tpc.kernel(np.ones(3))
    with pytest.raises(ValueError, match="unknown parametrization"):
        tpc.gen_mlp(param="ntk")
    with pytest.raises(ValueError, match="depth"):
        tpc.kernel(np.eye(2), depth=0)
