package dev.consort.job;

import java.util.List;

import dev.consort.web.ApiProblem.FieldError;

/** What {@link JobHandler#plan} found wrong with a spec, by spec field; nothing of the job is stored. */
public class InvalidSpecException extends Exception {

    private final List<FieldError> errors;

    public InvalidSpecException(List<FieldError> errors) {
        super(errors.isEmpty() ? "invalid spec" : errors.get(0).field() + ": " + errors.get(0).message()
                + (errors.size() > 1 ? " (and " + (errors.size() - 1) + " more)" : ""));
        if (errors.isEmpty()) {
            throw new IllegalArgumentException("an invalid spec has at least one error");
        }
        this.errors = List.copyOf(errors);
    }

    public InvalidSpecException(String field, String message) {
        this(List.of(new FieldError(field, message)));
    }

    public List<FieldError> errors() {
        return errors;
    }

    /** Throws when {@code errors} is not empty. */
    public static void throwIfAny(List<FieldError> errors) throws InvalidSpecException {
        if (!errors.isEmpty()) {
            throw new InvalidSpecException(errors);
        }
    }
}
