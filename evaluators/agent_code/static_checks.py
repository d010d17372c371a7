"""Static checks of agent-written kernel modules, before anything of them runs.

Runtime verification catches wrong answers; it cannot catch a *right* answer computed by
a library (``torch.softmax`` inside the wrapper), nor code that attacks the harness. So a
candidate module may only allocate tensors and launch its own ``@triton.jit`` kernels:

- imports: torch, triton, triton.language, math, typing, __future__ (anything else is named
  by what it would give access to: library compute, processes/files/network, introspection,
  timers);
- torch: only allocation (empty/zeros/ones/full and their ``_like`` forms), dtypes and type
  names; tensor metadata (shape, stride, dtype, ...) outside kernels; no arithmetic, indexing
  or method calls on tensors outside ``@triton.jit`` functions (tracked by a simple taint of
  names that hold tensors, across local helper calls);
- no dynamic access or code (getattr, __import__, eval/exec), no introspection (globals,
  frames, dunder attributes), no patching of module attributes, no state kept across calls
  (global/nonlocal, mutating module-level objects, mutable defaults), no tensor subclasses;
- for fp32 problems, no conversion to a lower precision (fp16/bf16/TF32).

Rules are named so that a rejection says which trick it matched. The first violation in
source order is the verdict; all are reported.
"""

from __future__ import annotations

import ast
import threading
from dataclasses import dataclass

_PARSE_LOCK = threading.Lock()

ALLOWED_IMPORTS = {"torch", "triton", "triton.language", "math", "typing", "__future__"}
IMPORT_RULES = {
    "library-compute": {"numpy", "scipy", "cupy", "jax", "numba", "pandas", "torch.nn", "torch.nn.functional",
                        "torch.linalg", "torch.fft", "torch.ops", "torch.library", "torch.utils", "torch.special",
                        "torch.sparse", "torch.backends", "triton.ops", "functools"},
    "process-file-network": {"os", "sys", "subprocess", "socket", "shutil", "pathlib", "io", "urllib", "http",
                             "requests", "httpx", "httpx2", "multiprocessing", "threading", "concurrent", "signal",
                             "ctypes", "cffi", "pickle", "marshal", "tempfile", "asyncio", "select", "mmap",
                             "glob", "fcntl", "resource", "pty", "ssl", "ftplib", "smtplib", "sqlite3", "shelve"},
    "introspection": {"inspect", "gc", "traceback", "builtins", "importlib", "types", "dis", "code", "codeop",
                      "weakref", "atexit", "faulthandler", "linecache", "runpy", "pkgutil", "sysconfig"},
    "timer-access": {"time", "timeit", "datetime", "torch.cuda", "triton.testing", "torch.profiler"},
}
TORCH_ALLOCATION = {"empty", "empty_like", "empty_strided", "zeros", "zeros_like", "ones", "ones_like", "full",
                    "full_like"}
TORCH_NAMES = {"float32", "float", "float64", "double", "float16", "half", "bfloat16", "int8", "uint8", "int16",
               "int32", "int64", "long", "int", "bool", "dtype", "device", "Tensor", "Size", "finfo", "iinfo"}
TORCH_TIMING = {"cuda", "profiler", "autograd", "_C", "backends"}
TRITON_ALLOWED = {"jit", "autotune", "heuristics", "Config", "cdiv", "next_power_of_2", "language", "constexpr"}
TENSOR_METADATA = {"shape", "stride", "dtype", "device", "numel", "ndim", "dim", "size", "is_contiguous",
                   "element_size", "is_cuda", "data_ptr"}
# Tensor methods host code may call: layout and memory, never arithmetic (the dispatch policy
# enforces the same at run time, whatever name reached the operator).
TENSOR_LAYOUT = {"zero_", "fill_", "contiguous", "view", "reshape", "t", "T", "mT", "transpose", "permute",
                 "unsqueeze", "squeeze", "expand", "flatten", "new_empty", "new_zeros", "new_ones", "new_full"}
TL_SUBMODULES = {"core", "semantic", "standard", "math", "random", "extra", "target_info", "tensor_descriptor"}
TYPING_NAMES = {"Any", "Optional", "Union", "Tuple", "List", "Dict", "Sequence", "Callable"}
LOWER_PRECISION = {"float16", "half", "bfloat16", "float8e4nv", "float8e5", "float8_e4m3fn", "float8_e5m2"}
LOWER_PRECISION_METHODS = {"half", "bfloat16"}
BUILTIN_RULES = {
    "dynamic-access": {"getattr", "setattr", "delattr", "__import__", "hasattr"},
    "dynamic-code": {"eval", "exec", "compile"},
    "introspection": {"globals", "locals", "vars", "dir", "id", "type", "object", "super", "memoryview",
                      "__builtins__", "__loader__", "__spec__", "__file__", "classmethod", "staticmethod",
                      "property"},
    "process-file-network": {"open", "input", "breakpoint", "exit", "quit", "help"},
}
FRAME_ATTRIBUTES = {"f_back", "f_globals", "f_locals", "f_code", "f_builtins", "gi_frame", "cr_frame", "ag_frame",
                    "tb_frame", "tb_next", "co_code", "co_consts", "func_globals", "gi_code"}
MUTATING_METHODS = {"append", "extend", "update", "setdefault", "pop", "popitem", "clear", "insert", "add",
                    "discard", "remove", "__setitem__"}


@dataclass(frozen=True)
class Violation:
    rule: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: [{self.rule}] {self.message}"


def check_source(source: str, *, function: str, dtype: str | None = None) -> list[Violation]:
    """Every rule ``source`` breaks, in source order (empty: it may run)."""
    try:
        with _PARSE_LOCK:  # CPython 3.11's AST constructor keeps per-interpreter state: one parse at a time
            tree = ast.parse(source)
    except SyntaxError as exc:
        return [Violation("syntax", exc.lineno or 0, f"the module does not parse: {exc.msg}")]
    checker = _Checker(tree, function=function, fp32=(dtype or "fp32") == "fp32")
    checker.run()
    # What the module does wrong comes before what it lacks (module-wide findings have line 0).
    return sorted(checker.found, key=lambda v: (v.line == 0, v.line))


def _dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a chain of attributes on a name, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def _string_constants(tree: ast.Module) -> dict[str, set[str | None]]:
    """Every value each name is bound to, as a string literal or None (anything else)."""
    found: dict[str, set[str | None]] = {}
    params = {n.name: [a.arg for a in [*n.args.posonlyargs, *n.args.args]] for n in tree.body
              if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    pending: list[tuple[str, str]] = []  # (parameter, name passed to it)

    def literal(value: ast.AST | None) -> str | None:
        if isinstance(value, ast.Call) and (_dotted(value.func) or "").endswith("constexpr") and value.args:
            value = value.args[0]
        return value.value if isinstance(value, ast.Constant) and isinstance(value.value, str) else None

    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.NamedExpr)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        found.setdefault(name.id, set()).add(
                            literal(node.value) if target is name and not isinstance(node, ast.AugAssign) else None)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = node.args
            positional = [*args.posonlyargs, *args.args]
            defaults = dict(zip([a.arg for a in positional][len(positional) - len(args.defaults):], args.defaults))
            defaults |= {a.arg: d for a, d in zip(args.kwonlyargs, args.kw_defaults) if d is not None}
            for arg in [*positional, *args.kwonlyargs]:  # without a default, only calls bind it
                if arg.arg in defaults:
                    found.setdefault(arg.arg, set()).add(literal(defaults[arg.arg]))
                else:
                    found.setdefault(arg.arg, set())
        elif isinstance(node, ast.Call):
            callee = node.func.value if isinstance(node.func, ast.Subscript) else node.func
            names = params.get(callee.id, []) if isinstance(callee, ast.Name) else []
            starred = False
            for name, arg in zip(names, node.args):
                starred = starred or isinstance(arg, ast.Starred)
                if isinstance(arg, ast.Name) and not starred:
                    pending.append((name, arg.id))
                else:
                    found.setdefault(name, set()).add(None if starred else literal(arg))
            for kw in node.keywords:
                if kw.arg:
                    found.setdefault(kw.arg, set()).add(literal(kw.value))
        elif isinstance(node, (ast.For, ast.comprehension, ast.withitem)):
            target = node.optional_vars if isinstance(node, ast.withitem) else node.target
            for name in ast.walk(target) if target is not None else ():
                if isinstance(name, ast.Name):
                    found.setdefault(name.id, set()).add(None)
    for param, name in pending:
        values = found.get(name, {None})
        found.setdefault(param, set()).update(values if len(values) == 1 else {None})
    return found


def _bound_names(target: ast.AST) -> set[str]:
    """Names an assignment to ``target`` binds (through tuples, lists and starred parts)."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return set().union(*(_bound_names(t) for t in target.elts))
    if isinstance(target, ast.Starred):
        return _bound_names(target.value)
    return set()


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Call)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def _is_jit(fn: ast.FunctionDef) -> bool:
    for deco in fn.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        if (_dotted(target) or "").split(".")[-1] in {"jit", "autotune", "heuristics"}:
            return True
    return False


class _Checker:
    def __init__(self, tree: ast.Module, *, function: str, fp32: bool) -> None:
        self.tree = tree
        self.function = function
        self.fp32 = fp32
        self.found: list[Violation] = []
        self.modules: dict[str, str] = {}  # local name -> module it is bound to ("torch", "triton.language")
        self.functions = {n.name: n for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        self.jit_bodies = {id(n) for n in self.functions.values() if _is_jit(n)}
        self.attribute_bases = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        self.constants = _string_constants(tree)

    def flag(self, rule: str, node: ast.AST, message: str) -> None:
        self.found.append(Violation(rule, getattr(node, "lineno", 0), message))

    def run(self) -> None:
        for node in ast.walk(self.tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                self._import(node)
        self._structure()
        for node in ast.walk(self.tree):
            self._node(node)
        self._module_aliases()
        self._kernels_call_only_kernels()
        self._taint()

    # -- what the module is made of -------------------------------------------------------------
    def _structure(self) -> None:
        if self.function not in self.functions:
            self.flag("missing-function", self.tree, f"the module must define a function named {self.function!r}")
        if not self.jit_bodies:
            self.flag("no-triton-kernel", self.tree, "the module defines no @triton.jit kernel")

    def _import(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if self._module_allowed(alias.name, node):
                    self.modules[alias.asname or alias.name.split(".")[0]] = (
                        alias.name if alias.asname else alias.name.split(".")[0])
            return
        module = node.module or ""
        if node.level or not self._module_allowed(module, node):
            if node.level:
                self.flag("forbidden-import", node, "relative imports are not allowed")
            return
        for alias in node.names:
            full = f"{module}.{alias.name}"
            if full in ALLOWED_IMPORTS:
                self.modules[alias.asname or alias.name] = full
            elif alias.name == "*":
                self.flag("forbidden-import", node, f"from {module} import * hides what the module uses")
            elif module == "torch":
                self._torch_attribute(alias.name, node)
            elif module == "triton" and alias.name not in TRITON_ALLOWED:
                self.flag("forbidden-import", node, f"from triton import {alias.name} is not allowed")
            elif module != "__future__" and module not in ("torch", "triton") and (
                    problem := self._module_path_problem(module, [alias.name])):
                self.flag(problem[0], node, problem[1])

    def _module_allowed(self, name: str, node: ast.AST) -> bool:
        if name in ALLOWED_IMPORTS:
            return True
        for rule, modules in IMPORT_RULES.items():
            if any(name == m or name.startswith(m + ".") for m in modules):
                self.flag(rule, node, f"import of {name!r} is not allowed in kernel code")
                return False
        self.flag("forbidden-import", node, f"import of {name!r} is not allowed; kernel code may import only "
                                            f"{', '.join(sorted(ALLOWED_IMPORTS))}")
        return False

    def _torch_attribute(self, attr: str, node: ast.AST) -> None:
        if attr in TORCH_ALLOCATION or attr in TORCH_NAMES:
            return
        if attr in TORCH_TIMING:
            self.flag("timer-access", node, f"torch.{attr} is not available to kernel code")
        else:
            self.flag("library-compute", node, f"torch.{attr} computes with a library: only allocation "
                                               f"({', '.join(sorted(TORCH_ALLOCATION))}) is allowed")

    def _module_aliases(self) -> None:
        """Modules may only be used as ``module.name``: an alias (``T = torch``) would escape every rule."""
        bases = {id(n.value) for n in ast.walk(self.tree) if isinstance(n, ast.Attribute)}
        for node in ast.walk(self.tree):
            if (isinstance(node, ast.Name) and node.id in self.modules and isinstance(node.ctx, ast.Load)
                    and id(node) not in bases):
                self.flag("dynamic-access", node, f"module {node.id!r} may only be used as {node.id}.NAME")

    def _kernels_call_only_kernels(self) -> None:
        # The interpreter would run a host function called from a kernel as plain Python; a GPU would not.
        for fn in self.functions.values():
            if id(fn) not in self.jit_bodies:
                continue
            for node in ast.walk(fn):
                if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                        and node.func.id in self.functions and id(self.functions[node.func.id]) not in self.jit_bodies):
                    self.flag("kernel-calls-host", node, f"kernel {fn.name} calls host function {node.func.id}")

    # -- one node at a time ---------------------------------------------------------------------
    def _node(self, node: ast.AST) -> None:
        if isinstance(node, ast.Name):
            self._name(node)
        elif isinstance(node, ast.Attribute):
            self._attribute(node)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            self.flag("module-state", node, "global/nonlocal state would carry results across calls")
        elif isinstance(node, ast.ClassDef):
            bases = " ".join(_dotted(b) or "" for b in node.bases)
            if "torch" in bases or "Tensor" in bases:
                self.flag("lazy-tensor", node, f"class {node.name} subclasses a tensor type")
            else:
                self.flag("class-definition", node, "kernel modules define functions, not classes")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            self._defaults(node)
            if not isinstance(node, ast.Lambda):
                self._mutation_of_outer_state(node)
        elif isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
            self._attribute_store(node)
        elif isinstance(node, ast.Call):
            self._precision(node)

    def _name(self, node: ast.Name) -> None:
        for rule, names in BUILTIN_RULES.items():
            if node.id in names:
                self.flag(rule, node, f"{node.id} is not allowed in kernel code")

    def _attribute(self, node: ast.Attribute) -> None:
        attr = node.attr
        if attr.startswith("__") and attr.endswith("__") or attr in FRAME_ATTRIBUTES:
            self.flag("introspection", node, f"access to .{attr} is not allowed")
            return
        dotted = _dotted(node)
        if dotted is None or id(node) in self.attribute_bases:
            return  # only whole chains are judged: torch.Tensor.matmul, not torch.Tensor
        root, *parts = dotted.split(".")
        module = self.modules.get(root)
        if module is not None and (problem := self._module_path_problem(module, parts)):
            self.flag(problem[0], node, problem[1])

    def _module_path_problem(self, module: str, parts: list[str]) -> tuple[str, str] | None:
        """(rule, message) when ``module.parts`` is outside what kernel code may reach, at any depth."""
        path = ".".join([module, *parts])
        if module == "torch":
            if len(parts) == 1 and (parts[0] in TORCH_ALLOCATION or parts[0] in TORCH_NAMES):
                return None
            if parts[0] in TORCH_TIMING:
                return "timer-access", f"{path} is not available to kernel code"
            return "library-compute", (f"{path} computes with a library: only allocation "
                                       f"({', '.join(sorted(TORCH_ALLOCATION))}), dtypes and torch.Tensor")
        if module == "triton":
            if parts and parts[0] == "language":
                return self._module_path_problem("triton.language", parts[1:])
            if len(parts) == 1 and parts[0] in TRITON_ALLOWED:
                return None
            rule = "timer-access" if parts and parts[0] == "testing" else "forbidden-import"
            return rule, f"{path} is not available to kernel code"
        public = all(not p.startswith("_") for p in parts)
        if module == "triton.language":
            if not parts or (public and len(parts) == 1 and parts[0] not in TL_SUBMODULES) or (
                    public and len(parts) == 2 and parts[0] == "math"):
                return None
        elif module == "math" and public and len(parts) <= 1:
            return None
        elif module == "typing" and len(parts) <= 1 and (not parts or parts[0] in TYPING_NAMES):
            return None
        elif module == "__future__":
            return None
        return "forbidden-attribute", (f"{path} reaches past the names kernel code may use (a module's "
                                       "submodules and internals are out of reach)")

    def _defaults(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> None:
        for default in [*node.args.defaults, *node.args.kw_defaults]:
            if isinstance(default, (ast.List, ast.Dict, ast.Set, ast.ListComp, ast.DictComp, ast.SetComp, ast.Call)):
                self.flag("module-state", default, "a mutable default argument would carry state across calls")

    def _mutation_of_outer_state(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        local = {a.arg for a in [*fn.args.args, *fn.args.kwonlyargs, *fn.args.posonlyargs]}
        local |= {n.id for n in ast.walk(fn) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)}
        for node in ast.walk(fn):
            if isinstance(node, (ast.Assign, ast.AugAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    root = _root_name(target)
                    if isinstance(target, ast.Subscript) and root and root not in local:
                        self.flag("module-state", node, f"{root}[...] is state outside the function")
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                  and node.func.attr in MUTATING_METHODS):
                root = _root_name(node.func.value)
                if root and root not in local and root not in self.modules:
                    self.flag("module-state", node, f"{root}.{node.func.attr}(...) changes state outside the "
                                                    "function")

    def _attribute_store(self, node: ast.Assign | ast.AugAssign | ast.AnnAssign | ast.Delete) -> None:
        targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
        for target in targets:
            for part in ast.walk(target):
                if isinstance(part, ast.Attribute) and isinstance(part.ctx, (ast.Store, ast.Del)):
                    root = _root_name(part)
                    rule = "attribute-patch" if root in self.modules else "module-state"
                    self.flag(rule, node, f"assigning {_dotted(part) or 'an attribute'} changes shared objects")

    def _precision(self, node: ast.Call) -> None:
        if not self.fp32:
            return
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in LOWER_PRECISION_METHODS and not node.args:
            self.flag("precision-downgrade", node, f".{func.attr}() lowers the precision of an fp32 problem")
            return
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            if isinstance(arg, ast.Attribute) and arg.attr in LOWER_PRECISION:
                self.flag("precision-downgrade", node, f"{_dotted(arg)} lowers the precision of an fp32 problem")
        if (_dotted(func) or "").endswith(".dot") and not any(
                kw.arg == "input_precision" and self._string_value(kw.value) == "ieee" for kw in node.keywords):
            self.flag("precision-downgrade", node, "tl.dot on fp32 problems must pass input_precision=\"ieee\" "
                                                   "(the default is TF32 on GPUs)")
        for kw in node.keywords:
            value = kw.value
            if (kw.arg == "input_precision" and "tf32" in str(self._string_value(value))) or (
                    kw.arg == "allow_tf32" and not (isinstance(value, ast.Constant) and value.value is False)):
                self.flag("precision-downgrade", node, "TF32 dot products miss fp32 tolerances")

    def _string_value(self, node: ast.AST) -> str | None:
        """A string literal, or a name every binding of which is that literal (a constexpr, a default)."""
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.Name) and len(self.constants.get(node.id, set())) == 1:
            return next(iter(self.constants[node.id]))
        return None

    # -- compute on tensors outside kernels -----------------------------------------------------
    def _taint(self) -> None:
        """Names that hold tensors in host code, starting at the target function's parameters and
        followed into local helpers; any computation on them outside a kernel is library compute."""
        tainted: dict[str, set[str]] = {}
        entry = self.functions.get(self.function)
        if entry is None or id(entry) in self.jit_bodies:
            return
        queue = [(entry.name, {a.arg for a in [*entry.args.posonlyargs, *entry.args.args]} | {"out"})]
        while queue:
            name, params = queue.pop()
            new = params - tainted.get(name, set())
            if not new and name in tainted:
                continue
            tainted[name] = tainted.get(name, set()) | params
            queue += _TensorFlow(self, self.functions[name], tainted[name]).run()


class _TensorFlow:
    """One host function: which names may hold tensors, and what is done with them.

    A name may hold a tensor when anything that may hold one flows into it: assignment to any
    target shape (tuples, starred, walrus), loop and comprehension targets, ``with`` targets,
    containers, conditional expressions, layout methods. Reading metadata (``x.shape``,
    ``x.stride(0)``, ``len(x)``) gives plain numbers.
    """

    def __init__(self, checker: _Checker, fn: ast.FunctionDef, tensors: set[str]) -> None:
        self.checker = checker
        self.fn = fn
        self.tensors = set(tensors)
        self.calls: list[tuple[str, set[str]]] = []

    def run(self) -> list[tuple[str, set[str]]]:
        self._propagate()
        for stmt in self.fn.body:
            for node in ast.walk(stmt):
                self._use(node)
        return self.calls

    def holds_tensor(self, node: ast.AST | None) -> bool:
        if node is None:
            return False
        if isinstance(node, ast.Name):
            return node.id in self.tensors
        if isinstance(node, ast.Attribute):
            return node.attr not in TENSOR_METADATA and self.holds_tensor(node.value)
        if isinstance(node, ast.Subscript):
            return self.holds_tensor(node.value)
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in TENSOR_METADATA:
                return False
            if isinstance(func, ast.Name) and func.id in {"len", "isinstance", "int", "float", "bool", "range", "str"}:
                return False
            dotted = _dotted(func) or ""
            if dotted.split(".")[0] in self.checker.modules:
                return dotted.split(".")[-1] in TORCH_ALLOCATION
            return self.holds_tensor(func) or any(self.holds_tensor(a) for a in [*node.args,
                                                                                  *(k.value for k in node.keywords)])
        if isinstance(node, ast.Lambda):
            return False
        return any(self.holds_tensor(child) for child in ast.iter_child_nodes(node)
                   if isinstance(child, ast.expr))

    def _bindings(self) -> list[tuple[ast.AST, ast.AST | None]]:
        """(target, value) for every binding in the function; a value of None binds from a tensor's items."""
        found: list[tuple[ast.AST, ast.AST | None]] = []
        for node in ast.walk(self.fn):
            if isinstance(node, ast.Assign):
                found += [(t, node.value) for t in node.targets]
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign, ast.NamedExpr)) and node.value is not None:
                found.append((node.target, node.value))
            elif isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                found.append((node.target, node.iter))
            elif isinstance(node, ast.withitem) and node.optional_vars is not None:
                found.append((node.optional_vars, node.context_expr))
        return found

    def _propagate(self) -> None:
        bindings = self._bindings()
        while True:
            before = len(self.tensors)
            for target, value in bindings:
                if self.holds_tensor(value):
                    self.tensors |= _bound_names(target)
            if len(self.tensors) == before:
                return

    def _use(self, node: ast.AST) -> None:
        flag = self.checker.flag
        if isinstance(node, ast.BinOp) and (self.holds_tensor(node.left) or self.holds_tensor(node.right)):
            flag("library-compute", node, "arithmetic on tensors outside a Triton kernel runs torch operators")
        elif isinstance(node, ast.UnaryOp) and self.holds_tensor(node.operand):
            flag("library-compute", node, "arithmetic on tensors outside a Triton kernel runs torch operators")
        elif isinstance(node, ast.AugAssign) and (self.holds_tensor(node.target) or self.holds_tensor(node.value)):
            flag("library-compute", node, "in-place arithmetic on tensors outside a Triton kernel")
        elif isinstance(node, ast.Compare) and not all(isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops) and (
                any(self.holds_tensor(x) for x in [node.left, *node.comparators])):
            flag("library-compute", node, "comparing tensors outside a Triton kernel runs torch operators")
        elif isinstance(node, ast.Subscript) and self.holds_tensor(node.value):
            flag("library-compute", node, "indexing tensors outside a Triton kernel runs torch operators")
        elif isinstance(node, (ast.For, ast.comprehension)) and self.holds_tensor(node.iter) and not isinstance(
                node.iter, (ast.Tuple, ast.List)):
            flag("library-compute", node, "iterating over a tensor outside a Triton kernel")
        elif (isinstance(node, ast.Attribute) and self.holds_tensor(node.value)
              and node.attr not in TENSOR_METADATA and node.attr not in TENSOR_LAYOUT):
            flag("library-compute", node, f"tensor method .{node.attr} computes with torch; outside kernels only "
                                          f"metadata and layout ({', '.join(sorted(TENSOR_METADATA | TENSOR_LAYOUT))})"
                                          " may be used")
        elif isinstance(node, ast.Call):
            self._call(node)

    def _call(self, node: ast.Call) -> None:
        args = [*node.args, *(k.value for k in node.keywords)]
        if not any(self.holds_tensor(a) for a in args):
            return
        func = node.func
        if isinstance(func, ast.Subscript) and isinstance(func.value, ast.Name) and (
                func.value.id in self.checker.functions
                and id(self.checker.functions[func.value.id]) in self.checker.jit_bodies):
            return  # kernel[grid](...) launches
        if isinstance(func, ast.Name):
            if func.id in self.checker.functions:
                callee = self.checker.functions[func.id]
                if id(callee) not in self.checker.jit_bodies:
                    self.calls.append((func.id, self._tainted_params(callee, node)))
                return
            if func.id in {"len", "isinstance"}:
                return
        if isinstance(func, ast.Attribute) and (func.attr in TENSOR_LAYOUT or func.attr in TENSOR_METADATA) \
                and self.holds_tensor(func.value):
            return  # x.view(...), out.fill_(0.0), x.stride(0)
        dotted = _dotted(func) or ""
        if dotted.split(".")[0] in self.checker.modules and dotted.split(".")[-1] in TORCH_ALLOCATION:
            return  # torch.empty_like(x) and friends
        self.checker.flag("library-compute", node,
                          f"{dotted or 'a computed callee'}(...) receives a tensor outside a Triton kernel")

    def _tainted_params(self, callee: ast.FunctionDef, call: ast.Call) -> set[str]:
        """The callee's parameters that receive a tensor; all of them when *args or **kwargs carry one."""
        params = [a.arg for a in [*callee.args.posonlyargs, *callee.args.args]]
        every = set(params) | {a.arg for a in callee.args.kwonlyargs}
        every |= {a.arg for a in (callee.args.vararg, callee.args.kwarg) if a is not None}
        if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
            return every
        passed = {params[i] for i, a in enumerate(call.args) if i < len(params) and self.holds_tensor(a)}
        if callee.args.vararg is not None and any(self.holds_tensor(a) for a in call.args[len(params):]):
            passed.add(callee.args.vararg.arg)
        for kw in call.keywords:
            if self.holds_tensor(kw.value):
                passed.add(kw.arg if kw.arg in every else (callee.args.kwarg.arg if callee.args.kwarg else kw.arg))
        return passed
