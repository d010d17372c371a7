"""A kernel submitted to the service as data: a target *bundle*.

A bundle is a JSON document: the kernel module's text (Triton kernels and a launch wrapper), a
reference module's text (``reference(*inputs)`` returns the expected output), the space (parameter
values, constraints as expressions), the problem's dimensions with default sizes, the inputs and the
output as shape expressions over those dimensions, and optionally FLOPs and bytes expressions.

Everything the API and the job's loop need is parsed here from the document's data; neither source is
ever imported or executed outside the candidate sandbox (``evaluators/agent_code/bundle_verify.py``).
A bundle is known by the sha256 of its canonical encoding and shown as its account's target
``bundle:<account>/<name>@<first 12 hex digits>``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

from tuneforge.core.errors import UserInputError
from tuneforge.core.expressions import Expression, parse_expression
from tuneforge.core.space import Config, Constraint, Param, Space
from tuneforge.core.types import Problem
from tuneforge.kernels._triton_common import DTYPE_BYTES, TritonTarget

MAX_SOURCE_CHARS = 24 * 1024  # both sources and the data fit the server's default 64 KiB request body
MAX_DIMS = 8
MAX_TENSORS = 8
MAX_RANK = 4
MAX_PARAMS = 16
MAX_VALUES = 64
MAX_CONSTRAINTS = 16
MAX_POINTS = 50_000  # configurations in the product of the values (each is checked once at submit)
MAX_DIM = 9_999_999
MAX_ELEMENTS = 2**31  # per tensor, at any problem a job may ask for
NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,31}$")
OPEN_OWNER = "_local"  # the owner of bundles sent to a server that runs without keys (no account has it)
PREFIX = "bundle:"
SIZE_OF_DTYPE = "dtype_bytes"
FIELDS = ("name", "function", "kernel", "reference", "dims", "dtypes", "inputs", "output", "space", "flops",
          "bytes", "check_shapes")


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple[Expression, ...]

    def at(self, dims: dict[str, int]) -> tuple[int, ...]:
        return tuple(int(e(dims)) for e in self.shape)


@dataclass(frozen=True)
class Bundle:
    """A validated bundle; ``document`` is its canonical form, ``sha256`` the hash of that."""

    name: str
    function: str
    kernel: str
    reference: str
    dims: dict[str, int]
    dtypes: tuple[str, ...]
    inputs: tuple[TensorSpec, ...]
    output: TensorSpec
    params: tuple[Param, ...]
    constraints: tuple[Expression, ...]
    flops: Expression | None
    bytes: Expression | None
    check_shapes: tuple[dict[str, int], dict[str, int]] | None
    document: dict[str, Any]
    sha256: str


def canonical_json(document: dict[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _fail(field: str, message: str) -> UserInputError:
    return UserInputError(f"bundle.{field}: {message}")


def _mapping(value: Any, field: str, *, most: int) -> dict[str, Any]:
    if not isinstance(value, dict) or not value:
        raise _fail(field, "must be a non-empty object")
    if len(value) > most:
        raise _fail(field, f"has {len(value)} entries; at most {most}")
    return value


def _list(value: Any, field: str, *, least: int, most: int) -> list[Any]:
    if not isinstance(value, list) or not least <= len(value) <= most:
        raise _fail(field, f"must be a list of {least} to {most} entries")
    return value


def _identifier(value: Any, field: str) -> str:
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise _fail(field, f"{value!r} is not a name (letters, digits and _, at most 32, not starting with a digit)")
    return value


def _source(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(field, "must be the module's Python text")
    if len(value) > MAX_SOURCE_CHARS:
        raise _fail(field, f"is {len(value)} characters; at most {MAX_SOURCE_CHARS}")
    return value


def _size(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_DIM:
        raise _fail(field, f"must be an integer from 1 to {MAX_DIM}, got {value!r}")
    return value


def _dims_map(value: Any, field: str, names: tuple[str, ...] | None = None) -> dict[str, int]:
    dims = {_identifier(k, f"{field}.{k}"): _size(v, f"{field}.{k}")
            for k, v in _mapping(value, field, most=MAX_DIMS).items()}
    if names is not None and set(dims) != set(names):
        raise _fail(field, f"must give exactly the dimensions {', '.join(names)}")
    return dims if names is None else {n: dims[n] for n in names}


def _shape(value: Any, field: str, dims: set[str]) -> tuple[Expression, ...]:
    entries = _list(value, field, least=1, most=MAX_RANK)
    shape = []
    for i, entry in enumerate(entries):
        text = str(entry) if isinstance(entry, int) and not isinstance(entry, bool) else entry
        if not isinstance(text, str):
            raise _fail(f"{field}[{i}]", "must be a size expression such as 'N' or 'cdiv(N, 2)'")
        shape.append(parse_expression(text, dims, what=f"bundle.{field}[{i}]"))
    return tuple(shape)


def _param(name: str, values: Any, field: str) -> Param:
    values = _list(values, field, least=1, most=MAX_VALUES)
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, (int, float, str)) or (isinstance(v, str) and len(v) > 32):
            raise _fail(f"{field}[{i}]", f"{v!r}: a value is a number or a text of at most 32 characters")
    if len(set(map(repr, values))) != len(values):
        raise _fail(field, "lists a value twice")
    return Param(name, tuple(values))


def parse_bundle(document: Any) -> Bundle:
    """Validate a bundle document without running any of it; UserInputError names the field to change."""
    if not isinstance(document, dict):
        raise UserInputError("bundle: must be a JSON object with " + ", ".join(FIELDS))
    unknown = sorted(set(document) - set(FIELDS))
    if unknown:
        raise _fail(unknown[0], f"is not a bundle field; a bundle has {', '.join(FIELDS)}")
    missing = [f for f in ("name", "kernel", "reference", "dims", "inputs", "output", "space") if f not in document]
    if missing:
        raise _fail(missing[0], "is required")
    name = document["name"]
    if not isinstance(name, str) or not NAME.match(name):
        raise _fail("name", f"{name!r}: lowercase letters, digits and _, starting with a letter, at most 64")
    function = _identifier(document.get("function") or name, "function")
    kernel = _source(document["kernel"], "kernel")
    reference = _source(document["reference"], "reference")
    dims = _dims_map(document["dims"], "dims")
    if SIZE_OF_DTYPE in dims:
        raise _fail(f"dims.{SIZE_OF_DTYPE}", "is the name FLOPs and bytes expressions read the dtype's size by")
    dim_names = set(dims)
    dtypes = tuple(_list(document.get("dtypes", ["fp32"]), "dtypes", least=1, most=len(DTYPE_BYTES)))
    if bad := [d for d in dtypes if d not in DTYPE_BYTES]:
        raise _fail("dtypes", f"{bad[0]!r} is not one of {', '.join(DTYPE_BYTES)}")
    inputs = []
    for i, entry in enumerate(_list(document["inputs"], "inputs", least=1, most=MAX_TENSORS)):
        if not isinstance(entry, dict) or set(entry) - {"name", "shape"} or "shape" not in entry:
            raise _fail(f"inputs[{i}]", "must be an object with name and shape")
        inputs.append(TensorSpec(_identifier(entry.get("name", f"x{i}"), f"inputs[{i}].name"),
                                 _shape(entry["shape"], f"inputs[{i}].shape", dim_names)))
    if len({t.name for t in inputs}) != len(inputs):
        raise _fail("inputs", "names two inputs alike")
    output = document["output"]
    if not isinstance(output, dict) or set(output) - {"shape"} or "shape" not in output:
        raise _fail("output", "must be an object with shape")
    out_spec = TensorSpec("out", _shape(output["shape"], "output.shape", dim_names))
    space = document["space"]
    if not isinstance(space, dict) or set(space) - {"params", "constraints"} or "params" not in space:
        raise _fail("space", "must be an object with params (and optionally constraints)")
    params = tuple(_param(_identifier(k, f"space.params.{k}"), v, f"space.params.{k}")
                   for k, v in _mapping(space["params"], "space.params", most=MAX_PARAMS).items())
    if clash := {p.name for p in params} & dim_names:
        raise _fail("space.params", f"{sorted(clash)[0]!r} is also a dimension; rename one")
    readable = {p.name for p in params} | dim_names
    constraints = tuple(parse_expression(_text(c, f"space.constraints[{i}]"), readable,
                                         what=f"bundle.space.constraints[{i}]")
                        for i, c in enumerate(_list(space.get("constraints", []), "space.constraints", least=0,
                                                    most=MAX_CONSTRAINTS)))
    sizes = dim_names | {SIZE_OF_DTYPE}
    flops = _optional_expression(document.get("flops"), "flops", sizes)
    nbytes = _optional_expression(document.get("bytes"), "bytes", sizes)
    check_shapes = None
    if document.get("check_shapes") is not None:
        shapes = _list(document["check_shapes"], "check_shapes", least=2, most=2)
        check_shapes = (_dims_map(shapes[0], "check_shapes[0]", tuple(dims)),
                        _dims_map(shapes[1], "check_shapes[1]", tuple(dims)))
    canonical = {"name": name, "function": function, "kernel": kernel, "reference": reference, "dims": dims,
                 "dtypes": list(dtypes), "inputs": [{"name": t.name, "shape": [e.text for e in t.shape]}
                                                    for t in inputs],
                 "output": {"shape": [e.text for e in out_spec.shape]},
                 "space": {"params": {p.name: list(p.values) for p in params},
                           "constraints": [c.text for c in constraints]},
                 "flops": flops.text if flops else None, "bytes": nbytes.text if nbytes else None,
                 "check_shapes": [dict(s) for s in check_shapes] if check_shapes else None}
    bundle = Bundle(name=name, function=function, kernel=kernel, reference=reference, dims=dims, dtypes=dtypes,
                    inputs=tuple(inputs), output=out_spec, params=params, constraints=constraints, flops=flops,
                    bytes=nbytes, check_shapes=check_shapes, document=canonical,
                    sha256=hashlib.sha256(canonical_json(canonical)).hexdigest())
    target = BundleTarget(bundle, owner=OPEN_OWNER)
    for problem in (target.default_problem(), *target.check_problems(target.default_problem(), small=True)):
        try:
            target.check_problem(problem)
        except UserInputError as exc:
            raise _fail("dims" if problem.dims == dims else "check_shapes", str(exc)) from None
    space = target.space(target.default_problem())
    if space.cartesian_size > MAX_POINTS:
        raise _fail("space.params", f"spans {space.cartesian_size} configurations; at most {MAX_POINTS}")
    if not any(True for _ in space.valid_configs()):
        raise _fail("space.constraints", f"leave no configuration valid at the default dims {dims}")
    return bundle


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise _fail(field, "must be an expression as text")
    return value


def _optional_expression(value: Any, field: str, names: set[str]) -> Expression | None:
    return None if value is None else parse_expression(_text(value, field), names, what=f"bundle.{field}")


def target_name(owner: str, bundle: Bundle) -> str:
    return f"{PREFIX}{owner}/{bundle.name}@{bundle.sha256[:12]}"


def owner_of(target: str) -> str | None:
    """The account a bundle target belongs to, or None for every other target name."""
    if not target.startswith(PREFIX):
        return None
    return target[len(PREFIX):].partition("/")[0]


def owner_label(account: str | None) -> str:
    return account or OPEN_OWNER


def visible_to(target: str, account: str | None) -> bool:
    """Whether a caller who sees ``account``'s jobs (None: every job) may see results of ``target``."""
    owner = owner_of(target)
    return owner is None or account is None or owner == account


class BundleTarget(TritonTarget):
    """A Triton target made from a bundle's data. Its kernel and reference are user code: they run only
    in the candidate sandbox; nothing here imports or executes them."""

    untrusted_code: ClassVar[bool] = True
    description = "a kernel submitted as a bundle"

    def __init__(self, bundle: Bundle, *, owner: str) -> None:
        self.bundle = bundle
        self.owner = owner
        self.name = target_name(owner, bundle)  # type: ignore[misc] - per instance, not per class
        self.dims = tuple(bundle.dims)  # type: ignore[misc]
        self.dtypes = bundle.dtypes  # type: ignore[misc]

    @property
    def impl_module(self) -> str:
        return f"{self.name} (submitted source, sha256 {self.bundle.sha256})"

    @property
    def function_name(self) -> str:
        return self.bundle.function

    def impl_source(self) -> str:
        return self.bundle.kernel

    def default_problem(self) -> Problem:
        return Problem(dims=dict(self.bundle.dims), dtype=self.bundle.dtypes[0])

    def space(self, problem: Problem) -> Space:
        dims = dict(problem.dims)
        return Space(params=list(self.bundle.params),
                     constraints=[Constraint(c.text, lambda config, c=c: _holds(c, {**dims, **config}))
                                  for c in self.bundle.constraints])

    def input_shapes(self, dims: dict[str, int]) -> list[tuple[int, ...]]:
        return [t.at(dims) for t in self.bundle.inputs]

    def output_shape(self, dims: dict[str, int]) -> tuple[int, ...]:
        return self.bundle.output.at(dims)

    def check_problem(self, problem: Problem) -> None:
        for spec in (*self.bundle.inputs, self.bundle.output):
            shape = spec.at(problem.dims)
            if any(n < 1 for n in shape):
                raise UserInputError(f"{spec.name} would have shape {shape} at {problem.key()}; every size must "
                                     "be at least 1")
            elements = 1
            for n in shape:
                elements *= n
            if elements > MAX_ELEMENTS:
                raise UserInputError(f"{spec.name} would have {elements} elements at {problem.key()}; at most "
                                     f"{MAX_ELEMENTS}")

    def _sizes(self, problem: Problem) -> dict[str, int]:
        return {**problem.dims, SIZE_OF_DTYPE: self.dtype_bytes(problem)}

    def flops(self, problem: Problem) -> float | None:
        return float(self.bundle.flops(self._sizes(problem))) if self.bundle.flops else None

    def bytes(self, problem: Problem) -> float | None:
        """As declared; else every input read once and the output written once."""
        if self.bundle.bytes:
            return float(self.bundle.bytes(self._sizes(problem)))
        shapes = [*self.input_shapes(problem.dims), self.output_shape(problem.dims)]
        return float(sum(_count(s) for s in shapes) * self.dtype_bytes(problem))

    def small_dims(self) -> dict[str, int]:
        if self.bundle.check_shapes:
            return dict(self.bundle.check_shapes[0])
        return {d: min(v, 97) for d, v in self.bundle.dims.items()}

    def odd_dims(self) -> dict[str, int]:
        if self.bundle.check_shapes:
            return dict(self.bundle.check_shapes[1])
        return {d: min(v, 61) | 1 for d, v in self.bundle.dims.items()}

    def kernel_kwargs(self, config: Config) -> dict[str, Any]:
        return dict(config)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "bundle_sha256": self.bundle.sha256, "owner": self.owner}


def _holds(constraint: Expression, values: dict[str, Any]) -> bool:
    """A constraint that cannot be evaluated at a point (a division by zero there) rules the point out."""
    try:
        return bool(constraint(values))
    except UserInputError:
        return False


def _count(shape: tuple[int, ...]) -> int:
    count = 1
    for n in shape:
        count *= n
    return count


@lru_cache(maxsize=64)
def _parsed(text: bytes) -> Bundle:
    return parse_bundle(json.loads(text))


def bundle_target(reference: dict[str, Any]) -> BundleTarget:
    """The target an evaluation names as ``{"bundle": document, "owner": account}`` (parsed once per process)."""
    return BundleTarget(_parsed(canonical_json(reference["bundle"])), owner=reference["owner"])
