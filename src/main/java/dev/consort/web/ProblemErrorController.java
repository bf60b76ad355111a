package dev.consort.web;

import jakarta.servlet.RequestDispatcher;
import jakarta.servlet.http.HttpServletRequest;

import org.springframework.boot.webmvc.error.ErrorController;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

import dev.consort.database.DatabaseUnavailable;
import io.swagger.v3.oas.annotations.Hidden;

/**
 * Errors raised outside Spring MVC (by the servlet container, before a controller runs) arrive at
 * {@code /error}; answer them as problems too instead of Boot's default JSON.
 */
@Hidden
@RestController
class ProblemErrorController implements ErrorController {

    @RequestMapping(path = "/error", produces = {MediaType.APPLICATION_PROBLEM_JSON_VALUE, MediaType.ALL_VALUE})
    ResponseEntity<ProblemDetail> error(HttpServletRequest request) {
        if (request.getAttribute(RequestDispatcher.ERROR_EXCEPTION) instanceof Throwable failure
                && DatabaseUnavailable.isCause(failure)) {
            return ProblemHandler.databaseUnavailable();
        }
        // The container answers a failed body read with 400 itself; a body cut off for its rate is the client's delay.
        for (Object e = request.getAttribute(RequestDispatcher.ERROR_EXCEPTION); e instanceof Throwable failure;
                e = failure.getCause() == failure ? null : failure.getCause()) {
            if (failure instanceof MinimumBodyRateValve.BodyTooSlowException tooSlow) {
                ApiProblem problem = new ApiProblem(HttpStatus.REQUEST_TIMEOUT, ProblemType.REQUEST_TIMEOUT,
                        tooSlow.getMessage());
                return ResponseEntity.status(problem.status()).contentType(MediaType.APPLICATION_PROBLEM_JSON)
                        .body(problem.toProblemDetail());
            }
        }
        Object code = request.getAttribute(RequestDispatcher.ERROR_STATUS_CODE);
        HttpStatus status = code instanceof Integer c ? HttpStatus.resolve(c) : null;
        if (status == null || !status.isError()) {
            status = HttpStatus.INTERNAL_SERVER_ERROR;
        }
        Object message = request.getAttribute(RequestDispatcher.ERROR_MESSAGE);
        String detail = status.is5xxServerError() || message == null || message.toString().isBlank()
                ? status.getReasonPhrase()
                : message.toString();
        ProblemType type = ProblemHandler.typeFor(status.value());
        ProblemDetail problem = ProblemDetail.forStatusAndDetail(status, detail);
        problem.setType(type.uri());
        problem.setTitle(type.title());
        return ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(problem);
    }
}
