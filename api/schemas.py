"""Request and response bodies of the REST API, each field with its bounds, so the OpenAPI schema
states the limits the server enforces (Create models in, Public models out)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema

from tuneforge.kernels import bundle

INT32_MAX = 2**31 - 1  # the database's INTEGER columns
MAX_DIM = 9_999_999  # largest problem dimension any target tunes; M=10^30 is a typo, not a problem
MAX_TRIALS = 1_000_000
MAX_SECONDS = 10**7
NAME = r"^[A-Za-z0-9_][A-Za-z0-9_.:+-]*$"

_IDENT = "[A-Za-z_][A-Za-z0-9_]{0,31}"
_DIM = "[1-9][0-9]{0,6}"
DimName = Annotated[str, StringConstraints(pattern=f"^{_IDENT}$")]
DimValue = Annotated[int, Field(ge=1, le=MAX_DIM)]
ShapeText = Annotated[str, StringConstraints(max_length=256,
                                             pattern=f"^ *{_IDENT} *= *{_DIM} *(, *{_IDENT} *= *{_DIM} *){{0,7}}$")]
ExtraKey = Annotated[str, StringConstraints(pattern="^[a-z_]{1,32}$")]
ExtraValue = Annotated[str, StringConstraints(min_length=1, max_length=128)]
MetricName = Annotated[str, StringConstraints(min_length=1, max_length=64)]
ConstraintText = Annotated[str, StringConstraints(min_length=1, max_length=128)]
OptionName = Annotated[str, StringConstraints(pattern="^[a-z_]{1,64}$")]


def closed_map(key: str, value: dict[str, Any], most: int) -> WithJsonSchema:
    """A JSON object whose keys match ``key`` and nothing else (pydantic states only patternProperties,
    which leaves other keys allowed)."""
    return WithJsonSchema({"type": "object", "patternProperties": {key: value}, "additionalProperties": False,
                           "maxProperties": most})


ShapeMap = Annotated[dict[DimName, DimValue], Field(max_length=8),
                     closed_map(f"^{_IDENT}$", {"type": "integer", "minimum": 1, "maximum": MAX_DIM}, 8)]
ExtraMap = Annotated[dict[ExtraKey, ExtraValue], Field(max_length=4),
                     closed_map("^[a-z_]{1,32}$", {"type": "string", "minLength": 1, "maxLength": 128}, 4)]
OptionMap = Annotated[dict[OptionName, Any], Field(max_length=16), closed_map("^[a-z_]{1,64}$", {}, 16)]
JobStatusName = Literal["queued", "running", "succeeded", "failed", "cancelled"]
P = TypeVar("P", bound=BaseModel)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


BundleSize = Annotated[str, StringConstraints(min_length=1, max_length=256)]  # a size expression, e.g. cdiv(N, 2)
BundleName = Annotated[str, StringConstraints(pattern=f"^{_IDENT}$")]
ParamValue = Annotated[int | float | Annotated[str, StringConstraints(max_length=32)],
                       Field(union_mode="left_to_right")]
Source = Annotated[str, StringConstraints(min_length=1, max_length=bundle.MAX_SOURCE_CHARS)]


class BundleTensor(Strict):
    name: BundleName
    shape: list[BundleSize | Annotated[int, Field(ge=1, le=MAX_DIM)]] = Field(
        ..., min_length=1, max_length=bundle.MAX_RANK, description="one size expression per axis over the dims")


class BundleOutput(Strict):
    shape: list[BundleSize | Annotated[int, Field(ge=1, le=MAX_DIM)]] = Field(
        ..., min_length=1, max_length=bundle.MAX_RANK)


_PARAM_VALUES = {"type": "array", "minItems": 1, "maxItems": bundle.MAX_VALUES,
                 "items": {"anyOf": [{"type": "integer"}, {"type": "number"}, {"type": "string", "maxLength": 32}]}}


class BundleSpace(Strict):
    params: Annotated[dict[BundleName, Annotated[list[ParamValue], Field(min_length=1, max_length=bundle.MAX_VALUES)]],
                      Field(min_length=1, max_length=bundle.MAX_PARAMS),
                      WithJsonSchema({"type": "object", "patternProperties": {f"^{_IDENT}$": _PARAM_VALUES},
                                      "additionalProperties": False, "minProperties": 1,
                                      "maxProperties": bundle.MAX_PARAMS})]
    constraints: list[BundleSize] = Field(
        [], max_length=bundle.MAX_CONSTRAINTS,
        description="expressions over params and dims, e.g. 'BLOCK_N >= 32 * num_warps'")


class BundleCreate(Strict):
    """A kernel submitted as data (docs/user-targets.md, section 5). Parsed and checked, never run, by the server."""

    name: str = Field(..., pattern=bundle.NAME.pattern, description="the target shows as bundle:ACCOUNT/NAME@HASH12")
    function: BundleName | None = Field(None, description="the launch wrapper in `kernel` (default: name)")
    kernel: Source = Field(..., description="Python text: @triton.jit kernels and the launch wrapper")
    reference: Source = Field(..., description="Python text defining reference(*inputs) -> expected output")
    dims: ShapeMap = Field(..., description="the problem's dimensions and their default sizes")
    dtypes: list[Literal["fp32", "fp16", "bf16"]] = Field(["fp32"], min_length=1, max_length=3)
    inputs: list[BundleTensor] = Field(..., min_length=1, max_length=bundle.MAX_TENSORS)
    output: BundleOutput
    space: BundleSpace
    flops: BundleSize | None = Field(None, description="an expression over the dims and dtype_bytes")
    bytes: BundleSize | None = None
    check_shapes: list[ShapeMap] | None = Field(None, min_length=2, max_length=2,
                                               description="two small shapes to verify at (default: from dims)")


class JobCreate(Strict):
    target: str | None = Field(None, min_length=1, max_length=128, pattern=NAME,
                               description="target name; omit for a replay device, which names its own")
    device: str = Field(..., min_length=1, max_length=160, pattern=NAME,
                        description="cpu, cuda, sim:h100, sim:systolic, replay:NAME (GET /api/v1/devices lists them)")
    strategy: str = Field("bandit", min_length=1, max_length=64, pattern=NAME,
                          description="GET /api/v1/strategies lists them")
    shape: ShapeText | ShapeMap | None = Field(
        None, description=f"NAME=INT pairs, e.g. 'M=4096,N=4096,K=4096', each dimension 1..{MAX_DIM}")
    dtype: str | None = Field(None, min_length=1, max_length=16, pattern=NAME)
    extra: ExtraMap | None = Field(None, description="named options, e.g. {'workload': 'resnet18'}")
    objectives: list[MetricName] | None = Field(None, min_length=1, max_length=4)
    constraints: list[ConstraintText] | None = Field(None, max_length=8, description="e.g. ['area_mm2<=2.0']")
    trials: int = Field(100, ge=1, le=MAX_TRIALS, description="trial budget (the server's own limit may be lower)")
    seconds: float | None = Field(None, gt=0, le=MAX_SECONDS, allow_inf_nan=False,
                                  description="time budget in charged device seconds")
    parallelism: int = Field(1, ge=1, le=1024, description="candidates evaluated at once (the server caps it, "
                                                           "64 by default)")
    seed: int = Field(0, ge=0, le=INT32_MAX)
    options: OptionMap | None = Field(
        None, description="the strategy's options (GET /api/v1/strategies lists them)")
    bundle: BundleCreate | None = Field(None, description="a kernel submitted as data instead of a target name")


class JobCreated(BaseModel):
    id: str
    status: JobStatusName
    url: str


class Public(BaseModel):
    """A response body; it reads the store's typed records (or any object with the same attributes)."""

    model_config = ConfigDict(from_attributes=True)


def public(model: type[P], record: Any) -> dict[str, Any]:
    """A store record as the JSON the REST API returns for it (the CLI's --json prints the same)."""
    return model.model_validate(record).model_dump(mode="json")


class ObjectivePublic(BaseModel):
    metric: str
    direction: str


class JobPublic(Public):
    id: str
    account: str | None
    target: str
    family: str
    problem: dict[str, Any]
    problem_key: str
    device: str
    strategy: str
    objectives: list[ObjectivePublic]
    constraints: list[str]
    budget_trials: int
    budget_seconds: float | None
    parallelism: int
    seed: int
    options: dict[str, Any]
    status: JobStatusName
    error: str | None
    n_trials: int
    spent_seconds: float
    best_value: float | None
    best_trial: int | None
    baseline: dict[str, Any] | None
    result: dict[str, Any] | None
    transfer: list[dict[str, Any]] | None = Field(
        None, description="the stored histories the search learned from, and how much each weighed")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    bundle_sha256: str | None = None


class TrialPublic(Public):
    job_id: str
    number: int
    params: dict[str, Any]
    source: str | None
    origin: str
    note: str
    status: str
    metrics: dict[str, Any]
    values: list[float | None] | None
    feasible: bool
    provenance: str
    device_name: str
    cost_s: float
    timings: dict[str, Any]
    log: str
    worker: str | None
    bundle_sha256: str | None = None
    created_at: datetime


class _Published(Public):
    """What every published best config says: the winning config and where it came from."""

    target: str
    family: str
    device: str
    device_name: str
    params: dict[str, Any]
    metric: str
    value: float
    provenance: str
    strategy: str
    job_id: str
    trial_number: int
    seed: int
    versions: dict[str, Any]
    updated_at: datetime


class BestConfigPublic(_Published):
    problem_key: str
    problem: dict[str, Any]
    source: str | None
    metrics: dict[str, Any]
    baseline: dict[str, Any] | None


class LeaderboardRow(_Published):
    problem: str
    dims: dict[str, int]
    dtype: str | None
    extra: dict[str, Any]
    custom_source: bool
    speedup_vs_baseline: float | None
    baseline_provenance: str | None
    fraction_of_roofline: float | None


class AgentCallPublic(Public):
    id: int
    job_id: str
    agent: str
    strategy: str
    model: str
    messages: list[dict[str, Any]]
    response: str
    error: str | None
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float
    latency_s: float
    proposals: list[dict[str, Any]]
    created_at: datetime


class TargetPublic(BaseModel):
    name: str
    family: str
    description: str
    dims: list[str]
    dtypes: list[str]
    objectives: list[str]


class StrategyPublic(BaseModel):
    name: str
    description: str
    multi_objective: bool
    needs_llm: bool
    options: dict[str, Any]


class ErrorBody(BaseModel):
    detail: str | list[Any]


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the error codes a route returns, each with what it means."""
    return {code: {"model": ErrorBody, "description": ERROR_MEANINGS[code]} for code in codes}


ERROR_MEANINGS = {
    400: "the request is well-formed but names something that does not exist or does not fit; the detail says "
         "what to change",
    401: "no key, or a key that is unknown or revoked: send Authorization: Bearer KEY",
    403: "the key lacks the scope this route needs, or a browser request lacks its CSRF token",
    404: "no such thing visible to this key (another account's job is not found)",
    409: "the job already ended",
    413: "the request body is larger than the server accepts",
    422: "the request does not match the schema",
    429: "a quota or rate limit is spent; Retry-After says when to try again",
}
COMMON = (401, 403, 413, 422, 429)
