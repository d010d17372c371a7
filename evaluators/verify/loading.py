"""Loading the function under test (the implementation lives where the sandboxed child can import it
without this package's heavier modules)."""

from tuneforge.evaluators.agent_code.module_loading import function_of, load_impl, load_source

__all__ = ["function_of", "load_impl", "load_source"]
