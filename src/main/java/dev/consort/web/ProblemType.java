package dev.consort.web;

import java.net.URI;

/** The stable problem {@code type} URIs the API answers with; README lists them. */
public enum ProblemType {
    BAD_REQUEST("bad-request", "Bad request"),
    MALFORMED_BODY("malformed-body", "Malformed request body"),
    VALIDATION_FAILED("validation-failed", "Validation failed"),
    INVALID_CHECKPOINT("invalid-checkpoint", "Invalid checkpoint"),
    INVALID_DATASET("invalid-dataset", "Invalid dataset"),
    IDEMPOTENCY_CONFLICT("idempotency-conflict", "Idempotency key reused with a different request"),
    UNAUTHORIZED("unauthorized", "Unauthorized"),
    FORBIDDEN("forbidden", "Forbidden"),
    NOT_FOUND("not-found", "Not found"),
    METHOD_NOT_ALLOWED("method-not-allowed", "Method not allowed"),
    NOT_ACCEPTABLE("not-acceptable", "Not acceptable"),
    UNSUPPORTED_MEDIA_TYPE("unsupported-media-type", "Unsupported media type"),
    LENGTH_REQUIRED("length-required", "Length required"),
    PAYLOAD_TOO_LARGE("payload-too-large", "Payload too large"),
    IN_USE("in-use", "Resource in use"),
    CONFLICT("conflict", "Conflict"),
    REQUEST_TIMEOUT("request-timeout", "Request timeout"),
    TOO_MANY_REQUESTS("too-many-requests", "Too many requests"),
    QUOTA_EXCEEDED("quota-exceeded", "Quota exceeded"),
    CAPACITY_EXCEEDED("capacity-exceeded", "Server at capacity"),
    SERVICE_UNAVAILABLE("service-unavailable", "Service unavailable"),
    DATABASE_UNAVAILABLE("database-unavailable", "Database unavailable"),
    STORAGE_UNAVAILABLE("storage-unavailable", "Storage unavailable"),
    INTERNAL_ERROR("internal-error", "Internal error");

    static final String BASE = "https://consort.dev/problems/";

    private final String slug;
    private final String title;

    ProblemType(String slug, String title) {
        this.slug = slug;
        this.title = title;
    }

    public URI uri() {
        return URI.create(BASE + slug);
    }

    public String title() {
        return title;
    }

    public String slug() {
        return slug;
    }
}
