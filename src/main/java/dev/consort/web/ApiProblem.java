package dev.consort.web;

import java.util.List;

import org.springframework.http.HttpStatus;
import org.springframework.http.ProblemDetail;

/**
 * An error the client can act on, rendered as RFC 9457 {@code application/problem+json} with a stable
 * {@code type} URI (see {@link ProblemType}) and, for validation failures, an {@code errors[]} list.
 */
public class ApiProblem extends RuntimeException {

    /** One thing wrong with the request: {@code field} names it (a JSON path, a form part, a tensor). */
    public record FieldError(String field, String message) {}

    private final HttpStatus status;
    private final ProblemType type;
    private final List<FieldError> errors;
    private final Integer retryAfterSeconds;

    public ApiProblem(HttpStatus status, ProblemType type, String detail, List<FieldError> errors) {
        this(status, type, detail, errors, null);
    }

    private ApiProblem(HttpStatus status, ProblemType type, String detail, List<FieldError> errors,
            Integer retryAfterSeconds) {
        super(detail);
        this.status = status;
        this.type = type;
        this.errors = List.copyOf(errors);
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public ApiProblem(HttpStatus status, ProblemType type, String detail) {
        this(status, type, detail, List.of());
    }

    public static ApiProblem notFound(String what, Object id) {
        return new ApiProblem(HttpStatus.NOT_FOUND, ProblemType.NOT_FOUND, "No " + what + " with id " + id);
    }

    /** 422: the request is well-formed but a field's value is unacceptable. */
    public static ApiProblem invalidField(String field, String message) {
        return invalid(List.of(new FieldError(field, message)));
    }

    public static ApiProblem invalid(List<FieldError> errors) {
        String detail = errors.size() == 1
                ? errors.get(0).field() + ": " + errors.get(0).message()
                : errors.size() + " fields are invalid; see errors";
        return new ApiProblem(HttpStatus.UNPROCESSABLE_CONTENT, ProblemType.VALIDATION_FAILED, detail, errors);
    }

    /** A refusal for now (429, 503) that tells the client when to try again, as {@code Retry-After}. */
    public static ApiProblem retryLater(HttpStatus status, ProblemType type, String detail, int retryAfterSeconds) {
        return new ApiProblem(status, type, detail, List.of(), retryAfterSeconds);
    }

    /**
     * 429 {@code quota-exceeded}: the tenant is at one of its quotas; {@code quota} names it (the problem's one
     * error's field), and {@code retryAfterSeconds} (or null) says when trying again may help.
     */
    public static ApiProblem quotaExceeded(String quota, String detail, Integer retryAfterSeconds) {
        return new ApiProblem(HttpStatus.TOO_MANY_REQUESTS, ProblemType.QUOTA_EXCEEDED, detail,
                List.of(new FieldError(quota, detail)), retryAfterSeconds);
    }

    /** 400: the request could not be read at all (missing part, malformed JSON). */
    public static ApiProblem badRequest(String field, String message) {
        return new ApiProblem(HttpStatus.BAD_REQUEST, ProblemType.BAD_REQUEST, field + ": " + message,
                List.of(new FieldError(field, message)));
    }

    public HttpStatus status() {
        return status;
    }

    public ProblemType type() {
        return type;
    }

    public List<FieldError> errors() {
        return errors;
    }

    /** Seconds for a {@code Retry-After} header, or null for none. */
    public Integer retryAfterSeconds() {
        return retryAfterSeconds;
    }

    public ProblemDetail toProblemDetail() {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, getMessage());
        problem.setType(type.uri());
        problem.setTitle(type.title());
        if (!errors.isEmpty()) {
            problem.setProperty("errors", errors);
        }
        return problem;
    }

}
