"""Best configs as ``triton.Config`` lists per shape bucket: paste into ``@triton.autotune(configs=...)``
or ``@tuneforge.autotune(configs=...)`` of the kernel that was tuned."""

from __future__ import annotations

from typing import Any

LAUNCH_KEYWORDS = ("num_warps", "num_stages", "num_ctas", "maxnreg")
_RANK = {"measured": 0, "replayed": 1, "modelled": 2}


def triton_config(params: dict[str, Any]) -> str:
    meta = {k: v for k, v in params.items() if k not in LAUNCH_KEYWORDS}
    launch = "".join(f", {k}={params[k]!r}" for k in LAUNCH_KEYWORDS if k in params)
    return f"triton.Config({meta!r}{launch})"


def render_triton_configs(target: str, records: list[dict[str, Any]]) -> str:
    """One list per problem (shape and dtype), measured configs before replayed before modelled."""
    by_problem: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_problem.setdefault(record["problem"], []).append(record)
    lines = [f'"""Tuned launch configs of `{target}`, one triton.Config list per shape bucket, exported by tuneforge.',
             "", "Each entry's comment says where its number comes from (measured, replayed or modelled).", '"""',
             "", "import triton", "", "CONFIGS = {"]
    for problem, group in sorted(by_problem.items()):
        lines.append(f"    {problem!r}: [")
        for r in sorted(group, key=lambda r: (_RANK.get(r["provenance"], 3), r["device"])):
            lines.append(f"        # {r['device']} ({r['device_name']}): {r['value']:.6g} {r['metric']}, "
                         f"{r['provenance']}; job {r['job_id']}")
            lines.append(f"        {triton_config(r['params'])},")
        lines.append("    ],")
    lines.append("}")
    lines.append("ALL_CONFIGS = list(dict.fromkeys(c for configs in CONFIGS.values() for c in configs))")
    return "\n".join(lines) + "\n"
