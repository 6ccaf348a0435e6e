"""The config: files read and laid over each other (`files`), validated (`validation`), the options a
method runs with resolved (`resolution`), and the questions the workflow asks of it (`workflow`)."""

from .files import load, merge, prepare, read_yaml
from .resolution import input_needed, method_encoding, method_options, needs_gpu, resolved_options, searcher_spec
from .resolution import uses_features
from .validation import load_schema, validate
from .workflow import RAW_FILE, enabled_experiments, jobs, method_label, offline_notices, runnable_experiments, seeds
from .workflow import unavailable

__all__ = ["RAW_FILE", "enabled_experiments", "input_needed", "jobs", "load", "load_schema", "merge", "method_encoding",
           "method_label", "method_options", "needs_gpu", "offline_notices", "prepare", "read_yaml", "resolved_options",
           "runnable_experiments", "searcher_spec", "seeds", "unavailable", "uses_features", "validate"]
