package dev.consort.web;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
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
import org.springframework.http.converter.HttpMessageNotReadableException;
import org.springframework.jdbc.CannotGetJdbcConnectionException;
import org.springframework.transaction.CannotCreateTransactionException;
import org.springframework.web.bind.MethodArgumentNotValidException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.method.annotation.MethodArgumentTypeMismatchException;
import org.springframework.web.multipart.MaxUploadSizeExceededException;
import org.springframework.web.multipart.MultipartException;
import org.springframework.web.multipart.support.MissingServletRequestPartException;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;

import dev.consort.ConsortProperties;
import dev.consort.database.DatabaseUnavailable;
import dev.consort.storage.StorageUnavailableException;
import tools.jackson.core.exc.StreamConstraintsException;

/**
 * Turns every failure into RFC 9457 problem+json with a stable {@code type}: our own
 * {@link ApiProblem}s, Spring MVC's standard exceptions (404 route, 405, 406, 413, 415, bad JSON) and,
 * as a last resort, a 500 that names no internals.
 */
@RestControllerAdvice
class ProblemHandler extends ResponseEntityExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(ProblemHandler.class);

    private final Path uploadDirectory;
    private final ConsortProperties.Upload uploadLimits;

    ProblemHandler(ConsortProperties properties) {
        this.uploadDirectory = MultipartConfiguration.location(properties);
        this.uploadLimits = properties.upload();
    }

    @ExceptionHandler(ApiProblem.class)
    ResponseEntity<ProblemDetail> apiProblem(ApiProblem problem) {
        ResponseEntity.BodyBuilder response = ResponseEntity.status(problem.status());
        if (problem.retryAfterSeconds() != null) {
            response.header(HttpHeaders.RETRY_AFTER, problem.retryAfterSeconds().toString());
        }
        return response.body(problem.toProblemDetail());
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

    /** The service's own disk or bucket failed; the request itself was fine and nothing of it was kept. */
    @ExceptionHandler(StorageUnavailableException.class)
    ResponseEntity<ProblemDetail> storageUnavailable(StorageUnavailableException e) {
        log.error("Storage unavailable: {}", e.getMessage(), e.getCause());
        return storageProblem();
    }

    /**
     * A multipart body the container could not take apart: the client's fault (truncated, malformed), unless
     * writing its parts to the upload directory failed, which is ours.
     */
    @ExceptionHandler(MultipartException.class)
    ResponseEntity<ProblemDetail> unreadableMultipart(MultipartException e) {
        // The container reports a missing upload directory as a plain IOException: look at the directory too.
        if (causedByLocalStorage(e) || !Files.isDirectory(uploadDirectory)) {
            log.error("Storage unavailable while receiving an upload: {}", e.toString(), e);
            return storageProblem();
        }
        log.debug("Unreadable multipart body", e);
        return apiProblem(ApiProblem.badRequest("body", "is not a readable multipart/form-data body"));
    }

    private static ResponseEntity<ProblemDetail> storageProblem() {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.INSUFFICIENT_STORAGE,
                "The service could not write to its storage (full or not writable); nothing was stored. "
                        + "Retry later.");
        problem.setType(ProblemType.STORAGE_UNAVAILABLE.uri());
        problem.setTitle(ProblemType.STORAGE_UNAVAILABLE.title());
        return ResponseEntity.status(HttpStatus.INSUFFICIENT_STORAGE).body(problem);
    }

    /** Whether a failure chain ends in our disk refusing a write rather than in the client's bytes. */
    static boolean causedByLocalStorage(Throwable failure) {
        for (Throwable e = failure; e != null; e = e.getCause() == e ? null : e.getCause()) {
            if (e instanceof StorageUnavailableException || e instanceof FileSystemException
                    || e instanceof FileNotFoundException) {
                return true;
            }
            String message = e.getMessage();
            if (e instanceof IOException && message != null && (message.contains("No space left on device")
                    || message.contains("Disk quota exceeded") || message.contains("Read-only file system"))) {
                return true;
            }
        }
        return false;
    }

    /** Bodies beyond {@code consort.limits.request-body} (413) or Jackson's read constraints (400 naming the limit). */
    @Override
    protected ResponseEntity<Object> handleHttpMessageNotReadable(HttpMessageNotReadableException ex,
            HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        for (Throwable e = ex; e != null; e = e.getCause() == e ? null : e.getCause()) {
            if (e instanceof RequestBodyLimitFilter.BodyTooLargeException tooLarge) {
                ApiProblem problem = new ApiProblem(HttpStatus.PAYLOAD_TOO_LARGE, ProblemType.PAYLOAD_TOO_LARGE,
                        tooLarge.getMessage());
                return ResponseEntity.status(problem.status()).body(problem.toProblemDetail());
            }
            if (e instanceof StreamConstraintsException limit) {
                ApiProblem problem = ApiProblem.badRequest("body", "exceeds a JSON parsing limit: "
                        + limit.getOriginalMessage());
                return ResponseEntity.status(problem.status()).body(problem.toProblemDetail());
            }
        }
        return super.handleHttpMessageNotReadable(ex, headers, status, request);
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

    /** An upload past a file's, the form fields' or the whole request's size limit: 413 naming the limits. */
    @Override
    protected ResponseEntity<Object> handleMaxUploadSizeExceededException(MaxUploadSizeExceededException ex,
            HttpHeaders headers, HttpStatusCode status, WebRequest request) {
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(HttpStatus.PAYLOAD_TOO_LARGE, "Maximum upload size "
                + "exceeded: each file may be at most " + uploadLimits.maxBytes().toBytes() + " bytes "
                + "(consort.upload.max-bytes), the form fields that are not files 2 MB in all, and the whole request "
                + uploadLimits.maxRequestBytes().toBytes() + " bytes (consort.upload.max-request-bytes)");
        return handleExceptionInternal(ex, problem, headers, HttpStatus.PAYLOAD_TOO_LARGE, request);
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
            case 408 -> ProblemType.REQUEST_TIMEOUT;
            case 409 -> ProblemType.CONFLICT;
            case 411 -> ProblemType.LENGTH_REQUIRED;
            case 413 -> ProblemType.PAYLOAD_TOO_LARGE;
            case 415 -> ProblemType.UNSUPPORTED_MEDIA_TYPE;
            case 422 -> ProblemType.VALIDATION_FAILED;
            case 429 -> ProblemType.TOO_MANY_REQUESTS;
            case 503 -> ProblemType.SERVICE_UNAVAILABLE;
            case 507 -> ProblemType.STORAGE_UNAVAILABLE;
            default -> status >= 500 ? ProblemType.INTERNAL_ERROR : ProblemType.BAD_REQUEST;
        };
    }

    private static String simpleTypeName(Class<?> type) {
        return type == null ? "the expected type" : type.getSimpleName();
    }
}
