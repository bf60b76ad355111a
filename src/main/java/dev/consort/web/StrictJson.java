package dev.consort.web;

import java.util.List;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Binds request JSON to a record with unknown fields and nulls for primitives refused, and turns a binding
 * failure into a {@link ApiProblem.FieldError} naming the field's JSON path: a misspelt field is an error, not
 * silently ignored.
 */
public final class StrictJson {

    private final JsonMapper strict;

    public StrictJson(JsonMapper json) {
        this.strict = json.rebuild()
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .build();
    }

    /** {@code node} as a {@code type}, or null with the failure added to {@code errors}, its field under {@code root}. */
    public <T> T bind(JsonNode node, Class<T> type, String root, List<ApiProblem.FieldError> errors) {
        try {
            return strict.treeToValue(node, type);
        } catch (JacksonException e) {
            errors.add(new ApiProblem.FieldError(fieldPath(root, e), describe(e)));
            return null;
        }
    }

    private static String fieldPath(String root, JacksonException e) {
        StringBuilder path = new StringBuilder(root);
        for (JacksonException.Reference ref : e.getPath()) {
            if (ref.getPropertyName() != null) {
                path.append(path.isEmpty() ? "" : ".").append(ref.getPropertyName());
            } else if (ref.getIndex() >= 0) {
                path.append('[').append(ref.getIndex()).append(']');
            }
        }
        return path.isEmpty() ? "body" : path.toString();
    }

    private static String describe(JacksonException e) {
        String message = e.getOriginalMessage();
        if (message.startsWith("Unrecognized property")) {
            return "unknown field";
        }
        int newline = message.indexOf('\n');
        return newline > 0 ? message.substring(0, newline) : message;
    }
}
