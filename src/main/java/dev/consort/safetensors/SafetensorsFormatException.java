package dev.consort.safetensors;

import java.io.IOException;

/**
 * A file that is not a well-formed safetensors file. {@code subject} names what is wrong: a tensor's
 * name, or {@code header}, {@code __metadata__} or {@code file} for what belongs to no tensor.
 * Like {@link java.util.zip.ZipException} it is an {@link IOException}: bad bytes read from a file.
 */
public class SafetensorsFormatException extends IOException {

    private final String subject;
    private final String reason;

    public SafetensorsFormatException(String subject, String reason) {
        super(subject + ": " + reason);
        this.subject = subject;
        this.reason = reason;
    }

    public String subject() {
        return subject;
    }

    /** The message without the subject. */
    public String reason() {
        return reason;
    }
}
