"""``GET /api/v1/export/{target}``: a tuned target as a vendorable Python module or JSON lines."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, FastAPI, Path, Query
from fastapi.responses import Response

from tuneforge.api.auth import Principal, require
from tuneforge.api.deps import store_of
from tuneforge.api.schemas import COMMON, errors
from tuneforge.api.export.service import export_target
from tuneforge.core.errors import NotFoundError, UserInputError
from tuneforge.db.store import JobStore
from tuneforge.kernels.bundle import visible_to

router = APIRouter(prefix="/api/v1", tags=["export"], dependencies=[Depends(require("read"))])


@router.get("/export/{target:path}", response_class=Response, responses={
    200: {"content": {"text/x-python": {}, "application/x-ndjson": {}, "application/json": {}},
          "description": "the module, JSON lines, triton.Config lists or a Kernel Tuner cache"},
    **errors(400, 404, *COMMON)})
def export(target: str = Path(..., min_length=1, max_length=128),
           device: str | None = Query(None, max_length=160, description="only configs tuned on this device"),
           format: Literal["py", "jsonl", "triton", "kt"] = Query(
               "py", description="py: a self-contained module; jsonl: one best config per line; "
                                 "triton: triton.Config lists per shape bucket; kt: a Kernel Tuner cache"),
           store: JobStore = Depends(store_of), who: Principal = Depends(require("read"))) -> Response:
    if not visible_to(target, who.sees):  # another account's bundle: nothing at this URL for this key
        raise NotFoundError(f"no best configs for {target!r}")
    try:
        result = export_target(store, target, device=device, fmt=format)
    except UserInputError as exc:  # no such target, or none exportable in this format: nothing at this URL
        raise NotFoundError(str(exc)) from None
    return Response(result.text, media_type=result.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{result.filename}"'})


def setup(app: FastAPI) -> None:
    app.include_router(router)
