"""The package against the CLI on the same programs: values, simulation tables, generated
programs, derivations and diagnostics."""

import shutil

import numpy as np

import tpc
from conftest import ROOT

PROGRAMS = ROOT / "programs"


def test_scalar_outputs_equal_the_cli(cli_json):
    for name in ["transpose_minimal.tp", "catalan.tp", "sgd_two_steps.tp", "transpose_minimal_relu.tp"]:
        path = PROGRAMS / name
        cli = cli_json("eval", "--format", "json", path)
        ours = tpc.compile(path).eval()
        assert list(ours) == list(cli["outputs"]), name
        scalars = {k: v for k, v in cli["outputs"].items() if isinstance(v["value"], float)}
        assert scalars, name
        for key, entry in scalars.items():
            # The same evaluation in the same library: the same bits (JSON keeps 17 digits).
            assert ours[key].value == entry["value"], (name, key)
            assert ours[key].method == entry["method"], (name, key)


def test_family_outputs_equal_the_cli_files(run_cli, tmp_path):
    path = PROGRAMS / "kernel_matrix.tp"
    done = run_cli("eval", path, "--out", tmp_path)
    assert done.returncode == 0, done.stderr
    result = tpc.compile(path).eval()["K"]
    # Identical computations: identical bits, NaN below the diagonal in both.
    np.testing.assert_array_equal(result.value, np.load(tmp_path / "K.npy"))
    np.testing.assert_array_equal(result.error, np.load(tmp_path / "K.errors.npy"))
    assert np.isnan(result.value[1, 0])


def test_consts_equal_a_data_file(run_cli, tmp_path):
    x = np.random.default_rng(5).standard_normal((7, 3))
    np.save(tmp_path / "inputs.npy", x)
    source = tpc.gen_kernel("inputs.npy", nonlin="gelu", depth=2)
    (tmp_path / "k.tp").write_text(source)
    done = run_cli("eval", tmp_path / "k.tp", "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr
    ours = tpc.compile(source, consts={"inputs.npy": x}).eval()
    # The array passed in memory is the file's: the same bits out.
    np.testing.assert_array_equal(ours["NTK"].value, np.load(tmp_path / "out" / "NTK.npy"))
    # A program compiled from its path reads the file beside it.
    from_file = tpc.compile(tmp_path / "k.tp").eval()
    np.testing.assert_array_equal(from_file["NNGP"].value, ours["NNGP"].value)


def test_simulation_equals_the_cli(cli_json):
    path = PROGRAMS / "transpose_minimal.tp"
    cli = cli_json("simulate", path, "--widths", "32,128", "--seeds", "3", "--seed", "7",
                   "--format", "json")
    ours = tpc.compile(path).simulate(widths=[32, 128], seeds=3, seed=7)
    assert ours.seeds == 3
    assert list(ours) == [o["name"] for o in cli]
    for entry in cli:
        table = ours[entry["name"]]
        assert table.widths.dtype == np.int64 and table.mean.dtype == np.float64
        np.testing.assert_array_equal(table.widths, [w["width"] for w in entry["widths"]])
        # Seeded runs are bit-identical whatever the thread count.
        np.testing.assert_array_equal(table.mean, [w["mean"] for w in entry["widths"]])
        np.testing.assert_array_equal(
            table.rms_deviation, [w["rms_deviation"] for w in entry["widths"]]
        )
        assert table.slope == entry["slope"]
        assert table.limit[0] == entry["limit"]["value"]


def test_simulation_approaches_the_limit():
    # Finite-width runs fluctuate around the limit by O(n^-1/2) (docs/derivation.md): at
    # n = 1024 with 8 seeds, the mean is within 5 standard errors of the limit (a failure
    # probability below 1e-6 if the standard error is right), and the error shrinks with n.
    table = tpc.compile(PROGRAMS / "transpose_minimal.tp").simulate(widths=[64, 1024], seeds=8)
    m1 = table["m1"]
    limit = m1.limit[0]
    assert abs(m1.mean[-1] - limit) < 5 * m1.standard_error[-1]
    assert m1.rms_deviation[1] < m1.rms_deviation[0]


def test_generated_programs_equal_the_cli(run_cli):
    done = run_cli("gen", "mlp", "--depth", "3", "--param", "sp", "--lr-exponent", "1",
                   "--steps", "2", "--nonlin", "relu", "--lr", "0.5")
    assert done.returncode == 0, done.stderr
    ours = tpc.gen_mlp(depth=3, param="sp", lr_exponent="1", steps=2, nonlin="relu", lr=0.5)
    assert ours == done.stdout
    done = run_cli("gen", "kernel", "--nonlin", "erf", "--depth", "2", "--inputs", "x.csv",
                   "--bias-var", "0.1", "--ntk")
    assert done.returncode == 0, done.stderr
    assert tpc.gen_kernel("x.csv", nonlin="erf", depth=2, bias=0.1) == done.stdout


def test_derivation_equals_the_cli(run_cli, tmp_path):
    shutil.copy(PROGRAMS / "transpose_minimal.tp", tmp_path / "t.tp")
    limit = tpc.compile(tmp_path / "t.tp").derive()
    for fmt, method in [("text", limit.text), ("latex", limit.latex), ("json", limit.json)]:
        done = run_cli("derive", "--format", fmt, tmp_path / "t.tp")
        assert done.returncode == 0, done.stderr
        assert method().rstrip("\n") == done.stdout.rstrip("\n"), fmt
    expanded = tpc.compile(tmp_path / "t.tp").derive(derivatives=True)
    done = run_cli("derive", "--derivatives", tmp_path / "t.tp")
    assert done.returncode == 0, done.stderr
    assert expanded.text().rstrip("\n") == done.stdout.rstrip("\n")
    assert "∂Z^a/∂Ẑ^{Wx} = tanh'(Z^h)" in expanded.text()
