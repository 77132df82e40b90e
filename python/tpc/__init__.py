"""tpc: a compiler for Tensor Programs, from Python.

Compile a ``.tp`` program, derive its infinite-width limit, evaluate it (floats and NumPy
arrays), and run it at finite width beside the limit::

    import numpy as np, tpc

    X = np.random.default_rng(0).standard_normal((100, 10))
    nngp, ntk = tpc.kernel(X, nonlin="relu", depth=3)       # two 100×100 float64 arrays

    program = tpc.compile(tpc.gen_mlp(depth=2, param="mup", steps=1))
    limits = program.eval()                    # {"f": Result, "chi": ..., "fc1": ..., "fc2": ...}
    table = program.simulate(widths=[256, 1024], seeds=8)  # finite width beside the limit

Work runs without the GIL, so other Python threads go on; Ctrl-C interrupts it. A wrong
program raises :class:`ProgramError` with the diagnostic ``tpc check`` prints; a numerical
failure raises :class:`EvaluationError`. See docs/python.md in the repository.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _tpc
from ._tpc import Error, EvaluationError, ProgramError

__all__ = [
    "Error",
    "EvaluationError",
    "Evaluation",
    "Limit",
    "Program",
    "ProgramError",
    "Result",
    "Simulation",
    "SimulationTable",
    "compile",
    "gen_kernel",
    "gen_mlp",
    "kernel",
]

__version__: str = _tpc.__version__

#: A float (scalar output) or a float64 array (family output).
Number = Union[float, np.ndarray]


@dataclass(frozen=True)
class Result:
    """The limit of one output.

    ``value`` and ``error`` are floats for a scalar output and float64 arrays of the
    family's shape for a family (NaN where the program defines no member); ``start`` is
    then the family's smallest index per dimension (entry ``[a, b]`` is member
    ``name[start[0] + a, start[1] + b]``), ``None`` for a scalar. ``error`` is rounding-level
    for exact methods, the refinement difference for quadrature, one standard error for
    Monte Carlo. ``method`` is the least accurate method used (``exact``, ``closed-form``,
    ``kink-aware``, ``quadrature``, ``monte-carlo``, …).
    """

    name: str
    value: Number
    error: Number
    method: str
    start: Optional[Tuple[int, ...]] = None

    def __float__(self) -> float:
        if self.start is not None:
            raise TypeError(f"{self.name} is a family (an array), not a scalar")
        return float(self.value)


class Evaluation(Mapping[str, Result]):
    """The evaluated outputs, a mapping from output name to :class:`Result` in the
    program's order, with ``notes``: what the user should know about how entries were
    computed, as dicts ``{"kind": str, "entry": str, "measure": None | (name, value)}``."""

    def __init__(self, results: List[Result], notes: List[Dict[str, Any]]):
        self._results = {r.name: r for r in results}
        self.notes: List[Dict[str, Any]] = notes

    def __getitem__(self, name: str) -> Result:
        return self._results[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._results)

    def __len__(self) -> int:
        return len(self._results)

    def __repr__(self) -> str:
        return f"Evaluation({list(self._results.values())!r}, notes={self.notes!r})"


@dataclass(frozen=True)
class SimulationTable:
    """One output simulated at finite width: per width (``widths``, one entry each) the
    ``mean`` over seeds, its ``standard_error``, and the ``rms_deviation`` of the seeds'
    values from the limit (NaN where undefined: one seed, or no limit); ``slope`` is the
    slope of log RMS deviation against log width (about -0.5 expected), ``limit`` the
    limit as ``(value, error, method)`` (``None`` for a program without one)."""

    name: str
    limit: Optional[Tuple[float, float, str]]
    widths: np.ndarray
    mean: np.ndarray
    standard_error: np.ndarray
    rms_deviation: np.ndarray
    slope: Optional[float]


class Simulation(Mapping[str, SimulationTable]):
    """Finite-width runs beside the limit: a mapping from output name to
    :class:`SimulationTable`, with ``seeds`` (seeds per width) and the limit's ``notes``."""

    def __init__(self, tables: List[SimulationTable], seeds: int, notes: List[Dict[str, Any]]):
        self._tables = {t.name: t for t in tables}
        self.seeds: int = seeds
        self.notes: List[Dict[str, Any]] = notes

    def __getitem__(self, name: str) -> SimulationTable:
        return self._tables[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._tables)

    def __len__(self) -> int:
        return len(self._tables)

    def __repr__(self) -> str:
        return f"Simulation({list(self._tables.values())!r}, seeds={self.seeds})"


@dataclass(frozen=True)
class Limit:
    """A program's derived infinite-width limit, printed as ``tpc derive`` prints it."""

    _program: "Program"
    _derivatives: bool = False

    def text(self) -> str:
        """The equations in plain Unicode text (families by representative members)."""
        return self._program._call(_tpc.derive, "text", derivatives=self._derivatives)

    def latex(self) -> str:
        """The equations as a LaTeX ``align`` environment."""
        return self._program._call(_tpc.derive, "latex", derivatives=self._derivatives)

    def json(self) -> str:
        """The limit as JSON (every instruction), a string for ``json.loads``."""
        return self._program._call(_tpc.derive, "json", derivatives=self._derivatives)

    def __str__(self) -> str:
        return self.text()


@dataclass(frozen=True)
class Program:
    """A checked Tensor Program; make one with :func:`compile`."""

    source: str
    name: str = "<string>"
    base_dir: Optional[str] = None
    consts: Mapping[str, np.ndarray] = field(default_factory=dict)

    def _call(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        return function(
            self.source.encode(),
            self.name,
            *args,
            base_dir=self.base_dir,
            consts=dict(self.consts),
            **kwargs,
        )

    def derive(self, derivatives: bool = False) -> Limit:
        """The infinite-width limit: ``.text()``, ``.latex()``, ``.json()``.

        Ż coefficients are written as their definition ``E[∂Z/∂Ẑ]``, as ``tpc derive``
        writes them; ``derivatives=True`` expands each derivative (``--derivatives``).
        """
        self._call(_tpc.derive, "text", derivatives=derivatives)
        return Limit(self, derivatives)

    def eval(
        self,
        method: str = "auto",
        tol: float = 1e-10,
        seed: int = 0,
        samples: int = 1_000_000,
        max_dim: int = 4,
    ) -> Evaluation:
        """Evaluates every output's limit, as ``tpc eval`` does.

        ``method``: ``"auto"`` (exact when possible, then quadrature, then Monte Carlo,
        saying so in the notes), ``"exact"``, ``"quad"`` or ``"mc"``; ``tol`` the relative
        tolerance of quadrature; ``seed`` and ``samples`` those of Monte Carlo;
        ``max_dim`` the highest dimension integrated by quadrature.
        """
        outputs, notes = self._call(
            _tpc.evaluate, method=method, tol=tol, max_dim=max_dim, samples=samples, seed=seed
        )
        return Evaluation([Result(*o) for o in outputs], notes)

    def simulate(
        self,
        widths: Sequence[int] = (256, 1024, 4096),
        seeds: int = 8,
        seed: int = 0,
        method: str = "auto",
        tol: float = 1e-10,
        samples: int = 1_000_000,
        max_dim: int = 4,
    ) -> Simulation:
        """Runs the program at every width with ``seeds`` networks (seeds ``seed``,
        ``seed + 1``, …, the same at every width) and compares with the limit, as
        ``tpc simulate`` does. Reproducible from the seed whatever the thread count."""
        outputs, count, notes = _tpc.simulate(
            self.source.encode(),
            self.name,
            [int(w) for w in widths],
            seeds=seeds,
            seed=seed,
            base_dir=self.base_dir,
            consts=dict(self.consts),
            method=method,
            tol=tol,
            max_dim=max_dim,
            samples=samples,
        )
        return Simulation([SimulationTable(**o) for o in outputs], count, notes)


def _as_array(name: str, value: Any) -> np.ndarray:
    array = np.ascontiguousarray(value, dtype=np.float64)
    if array.ndim not in (1, 2):
        raise ValueError(
            f"consts[{name!r}] has {array.ndim} dimensions; a program loads lists (1-D) "
            "and matrices (2-D)"
        )
    return array


def compile(
    source_or_path: Union[str, "os.PathLike[str]"],
    consts: Optional[Mapping[str, Any]] = None,
) -> Program:
    """Compiles a Tensor Program, raising :class:`ProgramError` if it is wrong.

    ``source_or_path`` is the program's text, or the path of a ``.tp`` file (a
    :class:`pathlib.Path`, or a string without line breaks naming an existing file); a file's
    ``load("…")`` paths are relative to its directory. ``consts`` maps names to arrays (lists
    or matrices, converted to float64): ``load("X")`` in the program reads ``consts["X"]``
    before looking for a file.
    """
    arrays = {str(k): _as_array(str(k), v) for k, v in (consts or {}).items()}
    is_path = isinstance(source_or_path, os.PathLike) or (
        "\n" not in source_or_path and os.path.isfile(source_or_path)
    )
    if is_path:
        path = Path(source_or_path)
        program = Program(
            path.read_text(encoding="utf-8"),
            name=str(source_or_path),
            base_dir=str(path.parent),
            consts=arrays,
        )
    else:
        program = Program(str(source_or_path), consts=arrays)
    program._call(_tpc.check)
    return program


def kernel(
    X: Any,
    nonlin: str = "relu",
    depth: int = 3,
    bias: float = 0.0,
    ntk: bool = True,
    weight_var: Optional[float] = None,
) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """The NNGP and NTK matrices (N×N float64) of a fully connected network with ``depth``
    hidden layers over the N rows of ``X`` (N×d), in the NTK parametrization: weight
    variance ``weight_var`` (default 2 for relu, 1 otherwise), bias variance ``bias``.

    The same as ``tpc gen kernel`` followed by ``tpc eval``; with ``ntk=False`` the second
    element is ``None``.
    """
    x = np.ascontiguousarray(X, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"X must be a matrix (N inputs × d), not an array of {x.ndim} dimensions")
    return _tpc.kernel(
        x, nonlin=nonlin, depth=depth, weight_var=weight_var, bias_var=bias, ntk=ntk
    )


def gen_mlp(
    depth: int = 2,
    param: str = "mup",
    lr_exponent: Optional[str] = None,
    a: Optional[Sequence[str]] = None,
    b: Optional[Sequence[str]] = None,
    c: Optional[str] = None,
    steps: int = 1,
    nonlin: str = "tanh",
    inputs: Sequence[Sequence[float]] = ((1.0, 0.0),),
    targets: Sequence[float] = (1.0,),
    eval: Sequence[Sequence[float]] = ((0.5, -1.0),),
    lr: float = 1.0,
    loss: str = "mse",
    sigma: Union[float, Sequence[float]] = 1.0,
) -> str:
    """The source of ``tpc gen mlp``: ``steps`` steps of SGD on an MLP with ``depth`` hidden
    layers, parametrization ``param`` (``"mup"``, ``"sp"``, ``"ntp"``, ``"mfp"``,
    ``"naive-mf"``; ``lr_exponent`` overrides its c) or exponents ``a``, ``b``, ``c``
    (strings such as ``"-1/2"``); outputs the network on every input after every step."""
    sigmas = [float(sigma)] if isinstance(sigma, (int, float)) else [float(s) for s in sigma]
    return _tpc.gen_mlp(
        depth=depth,
        param=param,
        lr_exponent=None if lr_exponent is None else str(lr_exponent),
        a=None if a is None else [str(x) for x in a],
        b=None if b is None else [str(x) for x in b],
        c=None if c is None else str(c),
        steps=steps,
        nonlin=nonlin,
        inputs=[[float(v) for v in row] for row in inputs],
        targets=[float(y) for y in targets],
        eval=[[float(v) for v in row] for row in eval],
        lr=lr,
        loss=loss,
        sigma=sigmas,
    )


def gen_kernel(
    inputs: str,
    nonlin: str = "relu",
    depth: int = 3,
    bias: float = 0.0,
    ntk: bool = True,
    weight_var: Optional[float] = None,
) -> str:
    """The source of ``tpc gen kernel``: the kernel program reading its inputs with
    ``load("inputs")`` (a file, or an array passed as ``consts={inputs: X}``)."""
    return _tpc.gen_kernel(
        inputs, nonlin=nonlin, depth=depth, weight_var=weight_var, bias_var=bias, ntk=ntk
    )
