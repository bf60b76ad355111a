package dev.consort.job;

/**
 * A handler's way to fail a job with a stable error {@code code} and a message for the user
 * (e.g. {@code dataset_too_small}). Any other exception fails the job as {@code internal_error}.
 */
public class JobFailedException extends RuntimeException {

    private final String code;

    public JobFailedException(String code, String message) {
        super(message);
        this.code = code;
    }

    public String code() {
        return code;
    }
}
