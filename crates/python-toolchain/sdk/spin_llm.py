"""Large language model inference and embeddings, run by the Spin host.

A component may use only the models listed in its `ai_models` manifest entry.
"""

from dataclasses import dataclass

from spin_py2wasm.errors import SpinError
from spin_py2wasm_bindings.imports import llm
from spin_py2wasm_bindings.types import Err

__all__ = [
    "LLMEmbeddingsResult",
    "LLMEmbeddingsUsage",
    "LLMError",
    "LLMInferencingParams",
    "LLMInferencingResult",
    "LLMInferencingUsage",
    "generate_embeddings",
    "llm_infer",
]


class LLMError(SpinError):
    """A model call failed, e.g. `LLMError::ModelNotSupported`."""


@dataclass
class LLMInferencingParams:
    """Sampling settings for `llm_infer`; Spin's defaults are shown."""

    max_tokens: int = 100
    repeat_penalty: float = 1.1
    repeat_penalty_last_n_token_count: int = 64
    temperature: float = 0.8
    top_k: int = 40
    top_p: float = 0.9


@dataclass
class LLMInferencingUsage:
    """Token counts of one `llm_infer` call."""

    prompt_token_count: int
    generated_token_count: int


@dataclass
class LLMInferencingResult:
    """The generated text and what it cost."""

    text: str
    usage: LLMInferencingUsage


@dataclass
class LLMEmbeddingsUsage:
    """Token count of one `generate_embeddings` call."""

    prompt_token_count: int


@dataclass
class LLMEmbeddingsResult:
    """One embedding vector per input string, and what they cost."""

    embeddings: list[list[float]]
    usage: LLMEmbeddingsUsage


def llm_infer(model: str, prompt: str, options: LLMInferencingParams | None = None) -> LLMInferencingResult:
    """Completes `prompt` with `model` (e.g. `"llama2-chat"`)."""
    params = None
    if options is not None:
        params = llm.InferencingParams(
            options.max_tokens,
            options.repeat_penalty,
            options.repeat_penalty_last_n_token_count,
            options.temperature,
            options.top_k,
            options.top_p,
        )
    try:
        result = llm.infer(model, prompt, params)
    except Err as error:
        raise LLMError.from_wit(error.value) from None
    usage = LLMInferencingUsage(result.usage.prompt_token_count, result.usage.generated_token_count)
    return LLMInferencingResult(result.text, usage)


def generate_embeddings(model: str, text: list[str]) -> LLMEmbeddingsResult:
    """Embeds each string of `text` with `model` (e.g. `"all-minilm-l6-v2"`)."""
    try:
        result = llm.generate_embeddings(model, list(text))
    except Err as error:
        raise LLMError.from_wit(error.value) from None
    return LLMEmbeddingsResult(result.embeddings, LLMEmbeddingsUsage(result.usage.prompt_token_count))
