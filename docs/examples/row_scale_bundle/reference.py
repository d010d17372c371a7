import torch


def reference(x, s):
    return x * s
