package dev.consort.engine;

import java.util.List;

/**
 * A config.json or a set of weights that is not a GPT-2 model Consort can run, with every problem
 * found: each {@link Violation} names the config field or the tensor it is about.
 */
public class Gpt2FormatException extends Exception {

    /** One problem: {@code subject} is a config.json field ({@code n_embd}) or a tensor name. */
    public record Violation(String subject, String message) {
        @Override
        public String toString() {
            return subject + ": " + message;
        }
    }

    private final List<Violation> violations;

    public Gpt2FormatException(List<Violation> violations) {
        super(summary(violations));
        if (violations.isEmpty()) {
            throw new IllegalArgumentException("an exception needs at least one violation");
        }
        this.violations = List.copyOf(violations);
    }

    public Gpt2FormatException(String subject, String message) {
        this(List.of(new Violation(subject, message)));
    }

    public List<Violation> violations() {
        return violations;
    }

    private static String summary(List<Violation> violations) {
        if (violations.isEmpty()) {
            return "";
        }
        String first = violations.get(0).toString();
        return violations.size() == 1 ? first : first + " (and " + (violations.size() - 1) + " more problems)";
    }
}
