"""``GET /api/v1/autotune/configs``: the stored config ``tuneforge.autotune`` asks for at a kernel's first call.

Read-only; configs arrive through ``tuneforge import`` (Triton and Kernel Tuner caches, with provenance).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query

from tuneforge.api.auth import require
from tuneforge.api.deps import store_of
from tuneforge.api.schemas import COMMON, errors
from tuneforge.core.errors import NotFoundError
from tuneforge.db.autotune_store import get_autotune_config
from tuneforge.db.store import JobStore

router = APIRouter(prefix="/api/v1", tags=["autotune"], dependencies=[Depends(require("read"))])


# Bounds match the autotune_configs columns.
@router.get("/autotune/configs", responses=errors(404, *COMMON))
def autotune_config(kernel: str = Query(..., pattern="^[0-9a-f]{64}$",
                                        description="sha256 of the @triton.jit function's source"),
                    bucket: str = Query(..., min_length=1, max_length=512,
                                        description="key arguments bucketed, e.g. n=512,dtypes=torch.float32"),
                    device: str = Query(..., min_length=1, max_length=256,
                                        description="GPU name and compute capability"),
                    triton: str = Query(..., min_length=1, max_length=64, description="Triton version"),
                    store: JobStore = Depends(store_of)) -> dict[str, Any]:
    found = get_autotune_config(store.url, kernel=kernel, bucket=bucket, device=device, triton=triton)
    if found is None:
        raise NotFoundError(f"no stored autotune config for kernel {kernel[:12]} at {bucket} on {device}, "
                            f"Triton {triton}")
    return found


def setup(app: FastAPI) -> None:
    app.include_router(router)
