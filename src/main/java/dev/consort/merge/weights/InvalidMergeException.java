package dev.consort.merge.weights;

import java.util.List;

/** A merge that cannot run as asked, with every problem found (each one a 422 field error). */
public class InvalidMergeException extends Exception {

    private final List<MergeProblem> problems;

    public InvalidMergeException(List<MergeProblem> problems) {
        super(summary(problems));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("an invalid merge needs at least one problem");
        }
        this.problems = List.copyOf(problems);
    }

    public InvalidMergeException(String field, String message) {
        this(List.of(new MergeProblem(field, message)));
    }

    public List<MergeProblem> problems() {
        return problems;
    }

    private static String summary(List<MergeProblem> problems) {
        if (problems.isEmpty()) {
            return "";
        }
        String first = problems.get(0).toString();
        return problems.size() == 1 ? first : first + " (and " + (problems.size() - 1) + " more problems)";
    }
}
