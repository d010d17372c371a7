"""Known ways to pass a kernel check without doing the work, as candidate modules for softmax
(and matmul), each with the rule that must reject it.

Each trick is a full module: the honest one-pass softmax kernel with the wrapper (or the kernel)
changed the way a cheating candidate would change it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# The honest one-pass softmax (tests/agents/kernels/softmax_one_pass.py), split into its imports
# and its kernel; each trick below changes one of them or the wrapper.
HONEST = (Path(__file__).parent / "kernels" / "softmax_one_pass.py").read_text()
HEADER, _, _rest = HONEST.partition("\n\n")
HEADER += "\n"
KERNEL = "\n" + _rest[:_rest.index("\n\ndef softmax(")]

LAUNCH = "_row_softmax[(rows,)](x, out, N, x.stride(0), out.stride(0), BLOCK=triton.next_power_of_2(N))"


def softmax_module(body: str, *, kernel: str = KERNEL, header: str = HEADER, extra: str = "") -> str:
    """A module whose ``softmax`` wrapper runs ``body`` (indented 4) after reading the shape."""
    lines = "\n".join("    " + line if line else "" for line in body.strip("\n").splitlines())
    return (f"{header}{extra}{kernel}\n\ndef softmax(x, out=None, *, BLOCK_N=1024, num_warps=4, num_stages=2):\n"
            f"    rows, N = x.shape\n{lines}\n")


@dataclass(frozen=True)
class Trick:
    name: str
    source: str
    rule: str
    static: bool  # caught before anything runs (else: by the harness or the sandbox)
    target: str = "softmax"


ZERO_KERNEL = KERNEL.replace("e / tl.sum(e, 0)", "tl.zeros((BLOCK,), tl.float32)")
COPY_KERNEL = KERNEL.replace("e / tl.sum(e, 0)", "x")
FP16_KERNEL = KERNEL.replace("e / tl.sum(e, 0)", "(e.to(tl.float16) / tl.sum(e, 0).to(tl.float16)).to(tl.float32)")
MUTATING_KERNEL = KERNEL.replace("    tl.store(y_ptr", "    tl.store(x_ptr + row * stride_x + cols, e, mask=cols < N)\n"
                                                     "    tl.store(y_ptr")
HOST_HELPER_KERNEL = KERNEL.replace("e / tl.sum(e, 0)", "_normalise(e)") + """

def _normalise(e):
    return e / e.sum()
"""
TF32_MATMUL = """import torch
import triton
import triton.language as tl


@triton.jit
def _mm(a_ptr, b_ptr, c_ptr, M, N, K, BLOCK: tl.constexpr):
    r = tl.arange(0, BLOCK)
    a = tl.load(a_ptr + r[:, None] * K + r[None, :], mask=(r[:, None] < M) & (r[None, :] < K), other=0.0)
    b = tl.load(b_ptr + r[:, None] * N + r[None, :], mask=(r[:, None] < K) & (r[None, :] < N), other=0.0)
    tl.store(c_ptr + r[:, None] * N + r[None, :], tl.dot(a, b), mask=(r[:, None] < M) & (r[None, :] < N))


def matmul(a, b, out=None, **config):
    M, K = a.shape
    N = b.shape[1]
    _mm[(1,)](a, b, out, M, N, K, BLOCK=256)
    return out
"""
LIBRARY_MATMUL = TF32_MATMUL.replace("tl.dot(a, b)", 'tl.dot(a, b, input_precision="ieee")').replace("    _mm[(1,)](a, b, out, M, N, K, BLOCK=256)\n    return out",
                                     "    return a @ b")

TRICKS = [
    # -- semantic cheats, caught by the harness at run time ---------------------------------------------
    Trick("zeros", softmax_module(LAUNCH + "\nreturn out", kernel=ZERO_KERNEL), "mismatch", False),
    Trick("uninitialised-output (launches nothing)", softmax_module("return out"), "output-not-written", False),
    Trick("fresh torch.empty output (stale memory)", softmax_module("res = torch.empty_like(x)\nreturn res"),
          "output-not-returned", False),
    Trick("passthrough (copies the input)", softmax_module(LAUNCH + "\nreturn out", kernel=COPY_KERNEL),
          "mismatch", False),
    Trick("partial write (half the rows)", softmax_module(LAUNCH.replace("[(rows,)]", "[(rows // 2,)]")
                                                          + "\nreturn out"), "output-not-written", False),
    Trick("input mutation (kernel writes into x)", softmax_module(LAUNCH + "\nreturn out", kernel=MUTATING_KERNEL),
          "inputs-modified", False),
    # -- sandbox limits ---------------------------------------------------------------------------------
    Trick("infinite loop", softmax_module("while True:\n    rows = rows + 1\nreturn out"), "timeout", False),
    Trick("memory bomb", softmax_module("hoard = torch.zeros((1 << 31,), dtype=torch.float32)\n" + LAUNCH
                                        + "\nreturn out"), "memory-limit", False),
    # -- caught by the static checks before anything runs -----------------------------------------------
    Trick("library compute (torch.softmax)", softmax_module("out.copy_(torch.softmax(x, -1))\nreturn out"),
          "library-compute", True),
    Trick("tensor method (x.softmax)", softmax_module("return x.softmax(-1)"), "library-compute", True),
    Trick("torch fallback in try/except", softmax_module(
        "try:\n    " + LAUNCH + "\nexcept Exception:\n    out = torch.softmax(x, -1)\nreturn out"),
        "library-compute", True),
    Trick("torch hidden behind getattr", softmax_module("fn = getattr(torch, 'soft' + 'max')\nreturn fn(x, -1)"),
          "dynamic-access", True),
    Trick("torch hidden behind __import__", softmax_module("t = __import__('torch')\nreturn t.softmax(x, -1)"),
          "dynamic-access", True),
    Trick("torch behind a module alias", softmax_module("T = torch\nreturn T.softmax(x, -1)"),
          "dynamic-access", True),
    Trick("code hidden in exec", softmax_module("exec('out.copy_(x.softmax(-1))')\nreturn out"),
          "dynamic-code", True),
    Trick("numpy compute", softmax_module(LAUNCH + "\nreturn out", header=HEADER + "import numpy as np\n"),
          "library-compute", True),
    Trick("output cached across calls (global dict)", softmax_module(
        "key = (rows, N)\nif key in _SEEN:\n    return _SEEN[key]\n" + LAUNCH + "\n_SEEN[key] = out\nreturn out",
        extra="\n_SEEN = {}\n"), "module-state", True),
    Trick("output cached on the function object", softmax_module(
        LAUNCH + "\nsoftmax.last = out\nreturn out"), "module-state", True),
    Trick("lower precision than asked (fp16 in an fp32 kernel)", softmax_module(LAUNCH + "\nreturn out",
                                                                              kernel=FP16_KERNEL),
          "precision-downgrade", True),
    Trick("TF32 dot in an fp32 matmul", TF32_MATMUL, "precision-downgrade", True, target="matmul"),
    Trick("matmul with the @ operator", LIBRARY_MATMUL, "library-compute", True, target="matmul"),
    Trick("timer patching", softmax_module(LAUNCH + "\ntime.perf_counter = lambda: 0.0\nreturn out",
                                           header=HEADER + "import time\n"), "timer-access", True),
    Trick("patching torch", softmax_module("torch.isnan = lambda t: t != t\n" + LAUNCH + "\nreturn out"),
          "attribute-patch", True),
    Trick("reading the reference from the stack", softmax_module(
        "caller = inspect.stack()[1].frame.f_locals\nreturn caller['ref']", header=HEADER + "import inspect\n"),
        "introspection", True),
    Trick("walking the heap with gc", softmax_module(LAUNCH + "\nreturn out", header=HEADER + "import gc\n"),
          "introspection", True),
    Trick("reading globals", softmax_module("g = globals()\n" + LAUNCH + "\nreturn out"), "introspection", True),
    Trick("frame walk via a traceback", softmax_module(
        "try:\n    raise ValueError\nexcept ValueError as e:\n    f = e.__traceback__.tb_frame.f_back\n"
        + LAUNCH + "\nreturn out"), "introspection", True),
    Trick("os access", softmax_module("os.system('true')\n" + LAUNCH + "\nreturn out", header=HEADER + "import os\n"),
          "process-file-network", True),
    Trick("network access", softmax_module("socket.create_connection(('127.0.0.1', 9))\n" + LAUNCH + "\nreturn out",
                                           header=HEADER + "import socket\n"), "process-file-network", True),
    Trick("file access via open", softmax_module("open('/tmp/x', 'w').write('1')\n" + LAUNCH + "\nreturn out"),
          "process-file-network", True),
    Trick("lazy tensor subclass", softmax_module(LAUNCH + "\nreturn out", extra="\n\nclass Lazy(torch.Tensor):\n"
                                                                              "    pass\n"), "lazy-tensor", True),
    Trick("kernel calling host Python (interpreter only)", softmax_module(LAUNCH + "\nreturn out",
                                                                          kernel=HOST_HELPER_KERNEL),
          "kernel-calls-host", True),
]

# The same attacks with the static checks switched off: the sandbox process must stop them itself.
SANDBOX_ONLY = [
    Trick("network (static checks off)", softmax_module(
        "import socket\nsocket.create_connection(('127.0.0.1', 9), timeout=1)\n" + LAUNCH + "\nreturn out"),
        "network", False),
    Trick("file write outside scratch (static checks off)", softmax_module(
        "open('/var/tmp/tuneforge-sandbox-escape', 'w').write('x')\n" + LAUNCH + "\nreturn out"), "file-write", False),
    Trick("starting a process (static checks off)", softmax_module(
        "import subprocess\nsubprocess.run(['true'])\n" + LAUNCH + "\nreturn out"), "process", False),
    Trick("swallowing the sandbox's error (static checks off)", softmax_module(
        "try:\n    import socket\n    socket.socket()\nexcept Exception:\n    pass\n" + LAUNCH + "\nreturn out"),
        "network", False),
]


# -- grown by class ---------------------------------------------------------------------------------------
# Each class below got through an earlier version of the checks. Tricks that an import line
# alone would reject are written without one, so the rule that should catch the behaviour is
# the one tested.
MATMUL = (Path(__file__).parent / "kernels" / "matmul_ieee.py").read_text()
MATMUL_HEADER, _, _mm_rest = MATMUL.partition("\n\n")
MATMUL_HEADER += "\n"
MATMUL_KERNEL = "\n" + _mm_rest[:_mm_rest.index("\n\ndef matmul(")]
MATMUL_LAUNCH = ("_tile_matmul[(triton.cdiv(M, 32), triton.cdiv(N, 32))](a, b, out, M, N, K, a.stride(0), a.stride(1),"
                 " b.stride(0), b.stride(1), out.stride(0), out.stride(1), BLOCK_M=32, BLOCK_N=32, BLOCK_K=32)")


def matmul_module(body: str, *, kernel: str = MATMUL_KERNEL, header: str = MATMUL_HEADER, extra: str = "",
                  signature: str = "a, b, out=None, **config") -> str:
    lines = "\n".join("    " + line if line else "" for line in body.strip("\n").splitlines())
    return (f"{header}{extra}{kernel}\n\ndef matmul({signature}):\n    M, K = a.shape\n    N = b.shape[1]\n"
            f"{lines}\n")


HONEST_MM = MATMUL_LAUNCH + "\nreturn out"
LAMBDA_KERNEL = MATMUL_KERNEL.replace('acc = tl.dot(a, b, acc, input_precision="ieee")',
                                      'acc += (lambda u, v: tl.dot(u, v, input_precision="ieee"))(a, b)')
CONSTEXPR_TENSOR_KERNEL = MATMUL_KERNEL.replace("BLOCK_K: tl.constexpr):", "BLOCK_K: tl.constexpr, T: tl.constexpr):")
PRECISION_PARAM_KERNEL = MATMUL_KERNEL.replace(
    "BLOCK_K: tl.constexpr):", 'BLOCK_K: tl.constexpr, PREC: tl.constexpr = "ieee"):').replace(
    'input_precision="ieee"', "input_precision=PREC")
FP16_ACC_KERNEL = MATMUL_KERNEL.replace("acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)",
                                        "acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float16)").replace(
    'acc = tl.dot(a, b, acc, input_precision="ieee")', "acc = tl.dot(a, b, acc, out_dtype=tl.float16)")
COUNTER_KERNEL = MATMUL_KERNEL.replace(
    "BLOCK_K: tl.constexpr):", "BLOCK_K: tl.constexpr, count_ptr):").replace(
    "    tl.store(c_ptr", "    acc = acc * (tl.load(count_ptr) < 2).to(tl.float32)\n    tl.store(c_ptr") + """


@triton.jit
def _bump(count_ptr):
    tl.store(count_ptr, tl.load(count_ptr) + 1)
"""
LOW_KERNEL = MATMUL_KERNEL.replace("    acc = tl.zeros(", "    low = LOW\n    acc = tl.zeros(").replace(
    "acc = tl.dot(a, b, acc, input_precision=\"ieee\")",
    "acc = tl.dot(a.to(LOW).to(tl.float32), b.to(LOW).to(tl.float32), acc, input_precision=\"ieee\")")

GROWN = [
    # -- torch does the work under another name (static) ------------------------------------------------
    Trick("subscripted callee [torch.matmul][0]", matmul_module("out.copy_([torch.matmul][0](a, b))\nreturn out"),
          "library-compute", True, "matmul"),
    Trick("unbound method torch.Tensor.matmul", matmul_module("return torch.Tensor.matmul(a, b)"),
          "library-compute", True, "matmul"),
    Trick("method of a tensor held in a list", matmul_module("pair = [a, b]\nreturn pair[0].mm(pair[1])"),
          "library-compute", True, "matmul"),
    Trick("*args helper", matmul_module("return _product(a, b)", extra="\n\ndef _product(*ts):\n    "
                                                                       "return ts[0] @ ts[1]\n"),
          "library-compute", True, "matmul"),
    Trick("**kwargs helper", matmul_module("return _product(x=a, y=b)", extra="\n\ndef _product(**kw):\n    "
                                                                             "return kw['x'].matmul(kw['y'])\n"),
          "library-compute", True, "matmul"),
    Trick("starred arguments into a helper", matmul_module("return _product(*(a, b))", extra="\n\ndef _product(p, q):\n"
                                                                                            "    return p @ q\n"),
          "library-compute", True, "matmul"),
    Trick("loop target", matmul_module("for t in (a,):\n    res = t.mm(b)\nreturn res"), "library-compute", True,
          "matmul"),
    Trick("tuple unpacking", matmul_module("p, q = a, b\nreturn p @ q"), "library-compute", True, "matmul"),
    Trick("walrus into a list", matmul_module("items = [(t := a)]\nreturn t @ b"), "library-compute", True,
          "matmul"),
    Trick("python compute on tolist()", matmul_module("rows = a.tolist()\nreturn out"), "library-compute", True,
          "matmul"),
    Trick("typing.sys.modules", matmul_module("return typing.sys.modules['torch'].matmul(a, b)",
                                              header=MATMUL_HEADER + "import typing\n"),
          "forbidden-attribute", True, "matmul"),
    Trick("tl.core.builtins", matmul_module("f = tl.core.builtins.getattr\nreturn out"), "forbidden-attribute", True,
          "matmul"),
    Trick("tl.core.inspect", matmul_module("frame = tl.core.inspect.currentframe()\nreturn out"),
          "forbidden-attribute", True, "matmul"),
    Trick("triton.runtime reaching the driver", matmul_module("d = triton.runtime.driver\nreturn out"),
          "forbidden-import", True, "matmul"),
    Trick("from triton.language import core", matmul_module(
        "return out", header=MATMUL_HEADER + "from triton.language import core\n"), "forbidden-attribute", True,
          "matmul"),
    # -- correct only while checked ---------------------------------------------------------------------
    Trick("call counter in a default argument", matmul_module(
        "_calls.append(1)\nif len(_calls) > 3:\n    return out\n" + HONEST_MM,
        signature="a, b, out=None, _calls=[], **config"), "module-state", True, "matmul"),
    Trick("correct only for the first two calls (module iterator)", matmul_module(
        "if next(_FIRST, None) is None:\n    return out\n" + HONEST_MM, extra="\n_FIRST = iter(range(2))\n"),
        "output-not-written", False, "matmul"),
    Trick("device-side call counter", matmul_module(
        MATMUL_LAUNCH.replace("BLOCK_K=32)", "BLOCK_K=32, count_ptr=_COUNT)") + "\n_bump[(1,)](_COUNT)\nreturn out",
        kernel=COUNTER_KERNEL, extra="\n_COUNT = torch.zeros((1,), dtype=torch.int32)\n"), "mismatch", False,
          "matmul"),
    Trick("honest only at the known check shapes", matmul_module(
        "if (M, N, K) in ((80, 72, 136), (45, 37, 71)):\n    " + HONEST_MM.replace("\n", "\n    ") + "\nreturn out"),
        "output-not-written", False, "matmul"),
    Trick("checking the caller's frame", matmul_module(
        "try:\n    raise ValueError\nexcept ValueError as e:\n    caller = e.__traceback__.tb_frame.f_back\n"
        + HONEST_MM), "introspection", True, "matmul"),
    # -- runs only under the interpreter ----------------------------------------------------------------
    Trick("lambda inside a jit body", matmul_module(HONEST_MM, kernel=LAMBDA_KERNEL), "gpu-lowering", False,
          "matmul"),
    Trick("tensor passed as a constexpr", matmul_module(
        MATMUL_LAUNCH.replace("BLOCK_K=32)", "BLOCK_K=32, T=a)") + "\nreturn out", kernel=CONSTEXPR_TENSOR_KERNEL),
        "gpu-lowering", False, "matmul"),
    # -- precision below the contract -------------------------------------------------------------------
    Trick("TF32 chosen through a constexpr at launch", matmul_module(
        MATMUL_LAUNCH.replace("BLOCK_K=32)", "BLOCK_K=32, **{'PR' + 'EC': 'tf32'})") + "\nreturn out",
        kernel=PRECISION_PARAM_KERNEL), "contract-tf32", False, "matmul"),
    Trick("bf16 rounding through a module constant", matmul_module(
        HONEST_MM, kernel=LOW_KERNEL, extra="\nLOW: tl.constexpr = tl.bfloat16\n"), "mismatch", False, "matmul"),
    Trick("stale memory through the natural signature", softmax_module("return torch.empty_like(x)").replace(
        "def softmax(x, out=None, *, BLOCK_N=1024, num_warps=4, num_stages=2):", "def softmax(x):"),
        "output-not-written", False),
    Trick("forged verdict on stdout", matmul_module(
        "print('{\"status\": \"ok\", \"rule\": \"\", \"checks\": []}')\nreturn out"), "output-not-written", False,
          "matmul"),
]

# The checker is reachable only across a process boundary: with the static checks off, what the
# candidate does to the process it runs in cannot change the verdict.
BOUNDARY = [
    Trick("replacing the harness module at import", matmul_module(
        "return out", header=MATMUL_HEADER + "import sys\nimport types\n_fake = types.ModuleType('harness')\n"
                                             "_fake.judge = lambda *a, **k: {'dims': {}, 'distribution': '', "
                                             "'max_err_rel': 0.0}\n"
                                             "sys.modules['tuneforge.evaluators.verify.harness'] = _fake\n"),
        "output-not-written", False, "matmul"),
    Trick("zeroing the inputs through the caller's frame", matmul_module(
        "import sys\nfor t in sys._getframe(1).f_locals['inputs']:\n    t.zero_()\nout.zero_()\nreturn out"),
        "inputs-modified", False, "matmul"),
    Trick("library compute with the dispatch policy as the only wall", matmul_module("return out.copy_(a @ b)"),
          "library-compute", False, "matmul"),
]

# fp16 problems: the target promises fp32 accumulation.
FP16_ACCUMULATOR = Trick("fp16 accumulator (out_dtype=tl.float16)", matmul_module(HONEST_MM, kernel=FP16_ACC_KERNEL),
                         "contract-accumulator", False, "matmul")
