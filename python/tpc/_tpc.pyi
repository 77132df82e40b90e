"""Type stubs of the extension module; the typed API is in tpc/__init__.py."""

from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

__version__: str

class Error(Exception): ...
class ProgramError(Error):
    code: str
    diagnostic_message: str

class EvaluationError(Error):
    code: str
    diagnostic_message: str

def check(
    source: bytes,
    name: str,
    base_dir: Optional[str] = None,
    consts: Optional[Mapping[str, np.ndarray]] = None,
) -> None: ...
def derive(
    source: bytes,
    name: str,
    format: str,
    base_dir: Optional[str] = None,
    consts: Optional[Mapping[str, np.ndarray]] = None,
    derivatives: bool = False,
) -> str: ...
def evaluate(
    source: bytes,
    name: str,
    base_dir: Optional[str] = None,
    consts: Optional[Mapping[str, np.ndarray]] = None,
    method: str = "auto",
    tol: float = 1e-10,
    max_dim: int = 4,
    samples: int = 1_000_000,
    seed: int = 0,
) -> Tuple[
    List[Tuple[str, Union[float, np.ndarray], Union[float, np.ndarray], str, Optional[Tuple[int, ...]]]],
    List[Dict[str, Any]],
]: ...
def simulate(
    source: bytes,
    name: str,
    widths: Sequence[int],
    seeds: int = 8,
    seed: int = 0,
    base_dir: Optional[str] = None,
    consts: Optional[Mapping[str, np.ndarray]] = None,
    method: str = "auto",
    tol: float = 1e-10,
    max_dim: int = 4,
    samples: int = 1_000_000,
) -> Tuple[List[Dict[str, Any]], int, List[Dict[str, Any]]]: ...
def kernel(
    x: np.ndarray,
    nonlin: str = "relu",
    depth: int = 3,
    weight_var: Optional[float] = None,
    bias_var: float = 0.0,
    ntk: bool = True,
) -> Tuple[np.ndarray, Optional[np.ndarray]]: ...
def gen_kernel(
    inputs: str,
    nonlin: str = "relu",
    depth: int = 3,
    weight_var: Optional[float] = None,
    bias_var: float = 0.0,
    ntk: bool = True,
) -> str: ...
def gen_mlp(
    depth: int = 2,
    param: str = "mup",
    lr_exponent: Optional[str] = None,
    a: Optional[List[str]] = None,
    b: Optional[List[str]] = None,
    c: Optional[str] = None,
    steps: int = 1,
    nonlin: str = "tanh",
    inputs: List[List[float]] = ...,
    targets: List[float] = ...,
    eval: List[List[float]] = ...,
    lr: float = 1.0,
    loss: str = "mse",
    sigma: List[float] = ...,
) -> str: ...
