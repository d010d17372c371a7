"""``GET /api/v1/export/{target}``: a tuned target as a vendorable Python module or JSON lines."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI, Query
from fastapi.responses import Response

from tuneforge.api.deps import store_of
from tuneforge.api.export.service import export_target
from tuneforge.db.store import JobStore

router = APIRouter(prefix="/api/v1", tags=["export"])


@router.get("/export/{target}", response_class=Response)
def export(target: str, device: str | None = Query(None, description="only configs tuned on this device"),
           format: str = Query("py", description="py: a self-contained module; jsonl: one best config per line; "
                                       "triton: triton.Config lists per shape bucket; kt: a Kernel Tuner cache"),
           store: JobStore = Depends(store_of)) -> Response:
    result = export_target(store, target, device=device, fmt=format)
    return Response(result.text, media_type=result.media_type,
                    headers={"Content-Disposition": f'attachment; filename="{result.filename}"'})


def setup(app: FastAPI) -> None:
    app.include_router(router)
