"""The exception hierarchy for failed host calls."""

from typing import Any, Self


class SpinError(AssertionError):
    """A call into the Spin host failed.

    It derives from `AssertionError` because the 2023 SDK raised bare
    `AssertionError`s, so `except AssertionError` in existing apps keeps
    working. Each module has its own subclass (`spin_http.HttpError`, ...).

    `variant` is the failure's name (e.g. `DestinationNotAllowed`) and
    `detail` the host's explanation, when it gave one.
    """

    def __init__(self, message: str, variant: str, detail: str | None = None) -> None:
        super().__init__(message)
        self.variant = variant
        self.detail = detail

    @classmethod
    def named(cls, variant: str, detail: str | None = None) -> Self:
        """An error whose text reads like the Rust `Debug` output Spin 1 printed,
        e.g. `HttpError::DestinationNotAllowed` or `ConfigError::Undefined("x")`."""
        message = f"{cls.__name__}::{variant}"
        if detail is not None:
            message += f"({detail!r})"
        return cls(message, variant, detail)

    @classmethod
    def from_wit(cls, error: Any) -> Self:
        """Converts a WIT error variant value into this exception type."""
        variant, detail = describe_variant(error)
        return cls.named(variant, detail)


def describe_variant(value: Any) -> tuple[str, str | None]:
    """The case name and string payload (if any) of a generated WIT variant.

    componentize-py names variant cases `<Type>_<Case>` (e.g.
    `Error_NoSuchStore`); the case is the part after the first underscore.
    """
    name = type(value).__name__
    case = name.split("_", 1)[1] if "_" in name else name
    payload = getattr(value, "value", None)
    return case, payload if isinstance(payload, str) else None
