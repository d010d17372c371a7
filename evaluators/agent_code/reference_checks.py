"""Static checks of a submitted bundle's reference module, before anything of it runs.

The reference defines correctness, so unlike a kernel it may compute with torch (and math); what
it may not do is reach for anything else: processes, files, the network, introspection, dynamic
code. Like the kernel's checks these are a first filter with named rules; the wall is the sandbox
the reference runs in (no files but the interpreter's, no network, no exec).
"""

from __future__ import annotations

import ast

from tuneforge.evaluators.agent_code.static_checks import BUILTIN_RULES, IMPORT_RULES, Violation

ALLOWED_ROOTS = {"torch", "math", "typing", "__future__"}
FORBIDDEN_TORCH = {"torch.utils", "torch.cuda", "torch.profiler", "torch.backends", "torch.ops", "torch.library",
                   "torch.hub", "torch.distributed", "torch.multiprocessing", "torch.package", "torch.jit",
                   "torch.compiler", "torch._dynamo", "torch._inductor", "torch._C"}
FUNCTION = "reference"


def _import_rule(module: str) -> str | None:
    """None when the reference may import ``module``, else the rule that forbids it."""
    root = module.split(".")[0]
    if root in ALLOWED_ROOTS and not any(module == f or module.startswith(f + ".") for f in FORBIDDEN_TORCH):
        return None
    for rule, modules in IMPORT_RULES.items():
        if rule != "library-compute" and (module in modules or root in modules):
            return rule
    return "import-not-allowed"


def check_reference(source: str) -> list[Violation]:
    """Every violation in source order; empty when the reference may run (in the sandbox)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return [Violation("syntax", exc.lineno or 0, f"the reference does not parse: {exc.msg}")]
    found: list[Violation] = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for module in modules:
                if node_rule := _import_rule(module):
                    found.append(Violation(node_rule, line, f"the reference imports {module}; it may import "
                                                            "torch (computation only), math and typing"))
        elif isinstance(node, ast.Name):
            for rule, names in BUILTIN_RULES.items():
                if node.id in names:
                    found.append(Violation(rule, line, f"the reference uses {node.id}"))
        elif isinstance(node, ast.Attribute) and node.attr.startswith("__"):
            found.append(Violation("introspection", line, f"the reference reads .{node.attr}"))
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            found.append(Violation("module-state", line, "the reference keeps state across calls"))
    if not any(isinstance(n, ast.FunctionDef) and n.name == FUNCTION for n in tree.body):
        found.append(Violation("no-reference", 0, f"the reference module defines no function {FUNCTION}(*inputs)"))
    return sorted(found, key=lambda v: v.line)


def check_bundle_sources(kernel: str, function: str, reference: str, *, dtype: str | None) -> None:
    """Both modules' static checks at submit (parsing only, nothing runs); UserInputError names the field."""
    from tuneforge.core.errors import UserInputError
    from tuneforge.evaluators.agent_code.static_checks import check_source

    for field, violations in (("kernel", check_source(kernel, function=function, dtype=dtype)),
                              ("reference", check_reference(reference))):
        if violations:
            listed = "; ".join(f"{v.rule} (line {v.line}): {v.message}" for v in violations[:4])
            raise UserInputError(f"bundle.{field}: {listed}")
