package dev.consort.merge.weights;

/**
 * One thing wrong with a merge request or its inputs, for a 422: {@code field} names where it is, in the
 * request's own terms ({@code merge_method}, {@code parameters.density}, {@code models[1].parameters.weight},
 * {@code models[2].model}), and {@code message} says what is wrong and, for a tensor, which one.
 */
public record MergeProblem(String field, String message) {

    @Override
    public String toString() {
        return field + ": " + message;
    }
}
