package dev.consort.generation;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

import dev.consort.web.ApiProblem;
import dev.consort.web.ApiProblem.FieldError;

/** A checked completion request with its defaults filled in; {@link #of} answers 422 naming every bad field. */
record CompletionSettings(List<String> prompts, int maxTokens, double temperature, int topK, double topP, long seed,
        List<String> stop, int n, boolean stream) {

    static final int MAX_PROMPTS = 8;
    static final int MAX_CHOICES = 8;
    static final int MAX_SEQUENCES = 16;
    static final int MAX_TOKENS = 1024;
    static final int MAX_STOPS = 4;
    static final int MAX_STOP_LENGTH = 64;

    /** Checks everything that does not depend on the model (the context length is the service's check). */
    static CompletionSettings of(CompletionRequest request) {
        List<FieldError> errors = new ArrayList<>();
        List<String> prompts = prompts(request.prompt(), errors);
        int maxTokens = within(errors, "max_tokens", request.maxTokens(), 16, 1, MAX_TOKENS);
        int n = within(errors, "n", request.n(), 1, 1, MAX_CHOICES);
        int topK = within(errors, "top_k", request.topK(), 0, 0, Integer.MAX_VALUE);
        double temperature = request.temperature() == null ? 1.0 : request.temperature();
        if (!(temperature >= 0 && temperature <= 5)) {
            errors.add(new FieldError("temperature", "must be from 0 to 5 (0: greedy), not " + temperature));
        }
        double topP = request.topP() == null ? 1.0 : request.topP();
        if (!(topP > 0 && topP <= 1)) {
            errors.add(new FieldError("top_p", "must be in (0, 1], not " + topP));
        }
        List<String> stop = request.stop() == null ? List.of() : request.stop();
        if (stop.size() > MAX_STOPS) {
            errors.add(new FieldError("stop", "has " + stop.size() + " strings; at most " + MAX_STOPS));
        }
        for (int i = 0; i < stop.size(); i++) {
            String s = stop.get(i);
            if (s == null || s.isEmpty() || s.length() > MAX_STOP_LENGTH) {
                errors.add(new FieldError("stop[" + i + "]", "must be 1 to " + MAX_STOP_LENGTH + " characters"));
            }
        }
        if (prompts.size() * n > MAX_SEQUENCES) {
            errors.add(new FieldError("n", prompts.size() + " prompts × n " + n + " is " + prompts.size() * n
                    + " sequences; at most " + MAX_SEQUENCES));
        }
        if (!errors.isEmpty()) {
            throw ApiProblem.invalid(errors);
        }
        long seed = request.seed() != null ? request.seed() : ThreadLocalRandom.current().nextLong(1L << 53);
        return new CompletionSettings(List.copyOf(prompts), maxTokens, temperature, topK, topP, seed,
                List.copyOf(stop), n, Boolean.TRUE.equals(request.stream()));
    }

    private static List<String> prompts(Object prompt, List<FieldError> errors) {
        List<String> prompts = new ArrayList<>();
        if (prompt == null) {
            errors.add(new FieldError("prompt", "is required: a string or a list of strings"));
        } else if (prompt instanceof String text) {
            if (text.isEmpty()) {
                errors.add(new FieldError("prompt", "must not be empty"));
            }
            prompts.add(text);
        } else if (prompt instanceof List<?> list && !list.isEmpty() && list.size() <= MAX_PROMPTS) {
            for (int i = 0; i < list.size(); i++) {
                if (list.get(i) instanceof String text && !text.isEmpty()) {
                    prompts.add(text);
                } else {
                    errors.add(new FieldError("prompt[" + i + "]", "must be a non-empty string"));
                }
            }
        } else if (prompt instanceof List<?> list) {
            errors.add(new FieldError("prompt", "must hold 1 to " + MAX_PROMPTS + " strings, not " + list.size()));
        } else {
            errors.add(new FieldError("prompt", "must be a string or a list of strings"));
        }
        return prompts;
    }

    private static int within(List<FieldError> errors, String field, Integer value, int fallback, int min, int max) {
        int v = value == null ? fallback : value;
        if (v < min || v > max) {
            errors.add(new FieldError(field, "must be from " + min + (max == Integer.MAX_VALUE ? " up" : " to " + max)
                    + ", not " + v));
        }
        return v;
    }
}
