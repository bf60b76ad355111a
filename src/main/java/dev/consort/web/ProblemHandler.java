package dev.consort.web;

import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.TransientDataAccessResourceException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.jdbc.CannotGetJdbcConnectionException;
import org.springframework.transaction.CannotCreateTransactionException;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.multipart.support.MissingServletRequestPartException;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;

import dev.consort.database.DatabaseUnavailable;

/**
 * Turns every failure into RFC 9457 problem+json with a stable {@code type}: our own
 * {@link ApiProblem}s, Spring MVC's standard exceptions (404 route, 405, 406, 413, 415, bad JSON) and,
 * as a last resort, a 500 that names no internals.
 */
@RestControllerAdvice
class ProblemHandler extends ResponseEntityExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(ProblemHandler.class);

    @ExceptionHandler(ApiProblem.class)
    ResponseEntity<ProblemDetail> apiProblem(ApiProblem problem) {
        return ResponseEntity.status(problem.status()).body(problem.toProblemDetail());
    }

    /** A malformed id in a path can name nothing: answer as for an unknown id. */
    @ExceptionHandler(MethodArgumentTypeMismatchException.class)
    ResponseEntity<ProblemDetail> typeMismatch(MethodArgumentTypeMismatchException e) {
        boolean pathVariable = e.getParameter().hasParameterAnnotation(
                org.springframework.web.bind.annotation.PathVariable.class);
        ApiProblem problem = pathVariable
                ? new ApiProblem(HttpStatus.NOT_FOUND, ProblemType.NOT_FOUND, "No resource with id " + e.getValue())
                : ApiProblem.badRequest(e.getName(), "cannot be read as " + simpleTypeName(e.getRequiredType()));
        return apiProblem(problem);
    }

    /** Seconds a client is told to wait when the database is unreachable (a restart takes about this long). */
    static final String DATABASE_RETRY_AFTER_SECONDS = "5";

    @ExceptionHandler({CannotGetJdbcConnectionException.class, CannotCreateTransactionException.class,
            DataAccessResourceFailureException.class, TransientDataAccessResourceException.class})
    ResponseEntity<ProblemDetail> databaseDown(Exception e) {
        log.warn("Database unavailable: {}", e.toString());
        return databaseUnavailable();
    }

    @ExceptionHandler(Exception.class)
    ResponseEntity<ProblemDetail> unexpected(Exception e) {
        if (DatabaseUnavailable.isCause(e)) {
            return databaseDown(e);
        }
        log.error("Unhandled error", e);
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.INTERNAL_SERVER_ERROR,
                "An internal error occurred; it has been logged");
        problem.setType(ProblemType.INTERNAL_ERROR.uri());
        problem.setTitle(ProblemType.INTERNAL_ERROR.title());
        return ResponseEntity.internalServerError().body(problem);
    }

    /** 503 with Retry-After: the request may well succeed once PostgreSQL is back. */
    static ResponseEntity<ProblemDetail> databaseUnavailable() {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.SERVICE_UNAVAILABLE,
                "The metadata database is unavailable; retry shortly");
        problem.setType(ProblemType.DATABASE_UNAVAILABLE.uri());
        problem.setTitle(ProblemType.DATABASE_UNAVAILABLE.title());
        return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE)
                .header(HttpHeaders.RETRY_AFTER, DATABASE_RETRY_AFTER_SECONDS)
                .contentType(MediaType.APPLICATION_PROBLEM_JSON)
                .body(problem);
    }

    @Override
    protected ResponseEntity<Object> handleMethodArgumentNotValid(MethodArgumentNotValidException ex,
            HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        List<ApiProblem.FieldError> errors = ex.getBindingResult().getFieldErrors().stream()
                .map(f -> new ApiProblem.FieldError(f.getField(), f.getDefaultMessage()))
                .toList();
        ApiProblem problem = ApiProblem.invalid(errors.isEmpty()
                ? List.of(new ApiProblem.FieldError("body", ex.getMessage()))
                : errors);
        return ResponseEntity.status(problem.status()).body(problem.toProblemDetail());
    }

    /** A form part the endpoint requires was not sent: name it, like any other field at fault. */
    @Override
    protected ResponseEntity<Object> handleMissingServletRequestPart(MissingServletRequestPartException ex,
            HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        ApiProblem problem = ApiProblem.badRequest(ex.getRequestPartName(), "required multipart part is missing");
        return ResponseEntity.status(problem.status()).body(problem.toProblemDetail());
    }

    /** Gives Spring's own problems (404 route, 405, 413, ...) our stable type URIs. */
    @Override
    protected ResponseEntity<Object> handleExceptionInternal(Exception ex, Object body, HttpHeaders headers,
            HttpStatusCode statusCode, WebRequest request) {
        ResponseEntity<Object> response = super.handleExceptionInternal(ex, body, headers, statusCode, request);
        if (response != null && response.getBody() instanceof ProblemDetail problem) {
            ProblemType type = typeFor(statusCode.value());
            problem.setType(type.uri());
            if (problem.getTitle() == null) {
                problem.setTitle(type.title());
            }
        }
        return response;
    }

    static ProblemType typeFor(int status) {
        return switch (status) {
            case 400 -> ProblemType.BAD_REQUEST;
            case 401 -> ProblemType.UNAUTHORIZED;
            case 403 -> ProblemType.FORBIDDEN;
            case 404 -> ProblemType.NOT_FOUND;
            case 405 -> ProblemType.METHOD_NOT_ALLOWED;
            case 406 -> ProblemType.NOT_ACCEPTABLE;
            case 409 -> ProblemType.CONFLICT;
            case 411 -> ProblemType.LENGTH_REQUIRED;
            case 413 -> ProblemType.PAYLOAD_TOO_LARGE;
            case 415 -> ProblemType.UNSUPPORTED_MEDIA_TYPE;
            case 422 -> ProblemType.VALIDATION_FAILED;
            case 429 -> ProblemType.TOO_MANY_REQUESTS;
            case 503 -> ProblemType.SERVICE_UNAVAILABLE;
            default -> status >= 500 ? ProblemType.INTERNAL_ERROR : ProblemType.BAD_REQUEST;
        };
    }

    private static String simpleTypeName(Class<?> type) {
        return type == null ? "the expected type" : type.getSimpleName();
    }
}
