package dev.consort.job;

import java.util.Arrays;
import java.util.Optional;

/** A job's lifecycle: queued → running → (cancelling →) succeeded | failed | cancelled. */
public enum JobStatus {
    QUEUED, RUNNING, CANCELLING, SUCCEEDED, FAILED, CANCELLED;

    public String value() {
        return name().toLowerCase();
    }

    public boolean terminal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }

    public static Optional<JobStatus> parse(String value) {
        return Arrays.stream(values()).filter(s -> s.value().equals(value)).findFirst();
    }
}
