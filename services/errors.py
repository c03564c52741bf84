"""Domain errors, each with the stable `code` of the API contract (api/errors.py gives each its HTTP status)."""

from __future__ import annotations


class DomainError(Exception):
    code = "conflict"

    def __init__(self, detail: str | None = None, *, errors: dict[str, list[str]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail or self.code)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


class Unauthorized(DomainError):
    code = "unauthorized"


class Forbidden(DomainError):
    code = "forbidden"


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    code = "conflict"


class InvalidTransition(DomainError):
    code = "invalid_transition"


class ValidationFailed(DomainError):
    code = "validation_failed"


class RateLimited(DomainError):
    code = "rate_limited"


class Unavailable(DomainError):
    code = "service_unavailable"


class MissingDocuments(DomainError):
    code = "missing_documents"


class EidLevelInsufficient(DomainError):
    code = "eid_level_insufficient"


class PaymentRequired(DomainError):
    code = "payment_required"


class PreconditionFailed(DomainError):
    code = "precondition_failed"


class PreconditionRequired(DomainError):
    code = "precondition_required"


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"


class FileTooLarge(DomainError):
    code = "file_too_large"


class UnsupportedFileType(DomainError):
    code = "unsupported_file_type"
