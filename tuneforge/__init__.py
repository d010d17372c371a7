"""tuneforge: an autotuning service for compute kernels and the hardware designs they run on.

The repository's folders (``api``, ``core``, ``db``, ``search``, ``worker``, ``kernels``,
``agents``, ``evaluators``) are installed as subpackages of this one import name.
"""

__version__ = "0.1.0"
