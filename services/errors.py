"""Domain errors, each with the stable `code` and HTTP status of the API contract."""

from __future__ import annotations


class DomainError(Exception):
    code = "conflict"
    status = 409

    def __init__(self, detail: str | None = None, *, errors: dict[str, list[str]] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail or self.code)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}


class Unauthorized(DomainError):
    code, status = "unauthorized", 401


class Forbidden(DomainError):
    code, status = "forbidden", 403


class NotFound(DomainError):
    code, status = "not_found", 404


class Conflict(DomainError):
    code, status = "conflict", 409


class InvalidTransition(DomainError):
    code, status = "invalid_transition", 409


class ValidationFailed(DomainError):
    code, status = "validation_failed", 422


class RateLimited(DomainError):
    code, status = "rate_limited", 429


class Unavailable(DomainError):
    code, status = "service_unavailable", 503


class MissingDocuments(DomainError):
    code, status = "missing_documents", 422


class EidLevelInsufficient(DomainError):
    code, status = "eid_level_insufficient", 403


class PaymentRequired(DomainError):
    code, status = "payment_required", 402


class PreconditionFailed(DomainError):
    code, status = "precondition_failed", 412


class PreconditionRequired(DomainError):
    code, status = "precondition_required", 428


class IdempotencyKeyReused(DomainError):
    code, status = "idempotency_key_reused", 422


class FileTooLarge(DomainError):
    code, status = "file_too_large", 413


class UnsupportedFileType(DomainError):
    code, status = "unsupported_file_type", 415
