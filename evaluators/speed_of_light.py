"""The speed-of-light rule: no result may beat the device's roofline."""

from __future__ import annotations

SOL_MARGIN = 0.03  # clocks and datasheet rounding: a few percent under the bound is still noise


def faster_than_light(time_ms: float, roofline_ms: float) -> str | None:
    """Why ``time_ms`` is physically impossible, or None when it is plausible."""
    if roofline_ms > 0 and time_ms < roofline_ms * (1 - SOL_MARGIN):
        return (f"{time_ms:.4g} ms is faster than the roofline bound {roofline_ms:.4g} ms "
                f"({roofline_ms / time_ms:.2f}x over the speed of light): the kernel cannot have done the work")
    return None
