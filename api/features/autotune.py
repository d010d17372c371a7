"""``GET /api/v1/autotune/configs``: the stored config ``tuneforge.autotune`` asks for at a kernel's first call.

Read-only; configs arrive through ``tuneforge import`` (Triton and Kernel Tuner caches, with provenance).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query

from tuneforge.api.deps import store_of
from tuneforge.core.errors import NotFoundError
from tuneforge.db.autotune_store import get_autotune_config
from tuneforge.db.store import JobStore

router = APIRouter(prefix="/api/v1", tags=["autotune"])


@router.get("/autotune/configs")
def autotune_config(kernel: str = Query(..., description="sha256 of the @triton.jit function's source"),
                    bucket: str = Query(..., description="key arguments bucketed, e.g. n=512,dtypes=torch.float32"),
                    device: str = Query(..., description="GPU name and compute capability"),
                    triton: str = Query(..., description="Triton version"),
                    store: JobStore = Depends(store_of)) -> dict[str, Any]:
    found = get_autotune_config(store.url, kernel=kernel, bucket=bucket, device=device, triton=triton)
    if found is None:
        raise NotFoundError(f"no stored autotune config for kernel {kernel[:12]} at {bucket} on {device}, "
                            f"Triton {triton}")
    return found


def setup(app: FastAPI) -> None:
    app.include_router(router)
