"""Config dispatch of an exported kernel, embedded verbatim in every module ``tuneforge pull`` writes.

Standard library only (torch is imported lazily, and only to name a CUDA device): the exported
module must run where tuneforge is not installed.
"""

import math

_DTYPE_NAMES = {"torch.float16": "fp16", "torch.bfloat16": "bf16", "torch.float32": "fp32"}
# At equal fit, a number timed on hardware beats one read back from a recording, which beats a model's.
_PROVENANCE_RANK = {"measured": 3, "replayed": 2, "modelled": 1}
# Distinct values no shape formula produces by accident: probing ``input_shapes`` with them shows
# which axis of which argument carries each dimension.
_PROBES = (10007, 10009, 10037, 10039, 10061, 10067, 10069, 10079, 10091, 10093)


class _Dispatcher:
    """Picks, per call, the tuned config nearest the call's shape bucket, dtype and device."""

    def __init__(self, table, dim_names, input_shapes=None):
        self.table = table
        self.dim_names = tuple(dim_names)
        self.locations = _dim_locations(self.dim_names, input_shapes)
        self._chosen = {}

    def config_for(self, args, fixed):
        """Launch keywords for a call with positional ``args``; ``fixed`` keywords win and narrow the choice."""
        tensors = [a for a in args if hasattr(a, "shape") and hasattr(a, "dtype")]
        bucket = tuple(_bucket(self._dim(n, tensors)) for n in self.dim_names)
        dtype = _DTYPE_NAMES.get(str(tensors[0].dtype)) if tensors else None
        device = _device_of(tensors[0]) if tensors else ("cpu", "cpu")
        key = (bucket, dtype, device, tuple(sorted(fixed.items())))
        if key not in self._chosen:
            self._chosen[key] = self.nearest(dict(zip(self.dim_names, bucket)), dtype, device, fixed)
        return dict(self._chosen[key])

    def nearest(self, dims, dtype, device, fixed):
        agreeing = [e for e in self.table if all(e["config"].get(k, v) == v for k, v in fixed.items())]
        if not agreeing:
            return dict(fixed)  # the kernel's own keyword defaults fill in the rest
        best = max(agreeing, key=lambda e: (_device_rank(e, device), e["dtype"] == dtype,
                                            -_log_distance(e["dims"], dims),
                                            _PROVENANCE_RANK.get(e["provenance"], 0)))
        return {**best["config"], **fixed}

    def _dim(self, name, tensors):
        where = self.locations.get(name)
        if where is None or where[0] >= len(tensors) or where[1] >= len(tensors[where[0]].shape):
            return None
        return int(tensors[where[0]].shape[where[1]])


def _dim_locations(dim_names, input_shapes):
    if input_shapes is None or len(dim_names) > len(_PROBES):
        return {}
    probe = dict(zip(dim_names, _PROBES))
    try:
        shapes = [tuple(s) for s in input_shapes(probe)]
    except Exception:  # a shape rule that rejects the probe values: dispatch by dtype and device only
        return {}
    found = {}
    for name, value in probe.items():
        for i, shape in enumerate(shapes):
            if value in shape:
                found[name] = (i, shape.index(value))
                break
    return found


def _bucket(size):
    """The power of two at or above ``size``: calls within a bucket share one lookup."""
    return None if size is None else 1 << max(0, (size - 1).bit_length())


def _log_distance(tuned, wanted):
    return sum(abs(math.log2(tuned[n]) - math.log2(v)) for n, v in wanted.items()
               if v is not None and tuned.get(n))


def _device_of(tensor):
    """(kind, name) of the device a tensor lives on."""
    kind = tensor.device.type
    if kind == "cuda":
        import torch

        return kind, torch.cuda.get_device_name(tensor.device)
    return kind, kind


def _device_rank(entry, device):
    """2: tuned on this very device model; 1: on the same kind of device (or a model of one); 0: else."""
    kind, name = device
    if name.lower() in entry["device_name"].lower():
        return 2
    tuned_kind = "cuda" if entry["device"].startswith(("cuda", "sim:")) else entry["device"].split(":")[0]
    return 1 if tuned_kind == kind else 0
