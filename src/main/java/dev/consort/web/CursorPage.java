package dev.consort.web;

import java.util.List;
import java.util.function.Function;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * One page of a list. Pass {@code next_after} back as {@code after} to get the next page; it is
 * null when {@code has_more} is false.
 */
public record CursorPage<T>(
        List<T> items,
        @JsonProperty("has_more") boolean hasMore,
        @JsonProperty("next_after") String nextAfter) {

    public static final int DEFAULT_LIMIT = 50;
    public static final int MAX_LIMIT = 500;

    /**
     * Builds a page from up to {@code limit + 1} rows fetched in list order: the extra row, if any,
     * only says that there is more.
     */
    public static <R, T> CursorPage<T> of(List<R> rows, int limit, Function<R, T> view, Function<R, String> cursor) {
        boolean more = rows.size() > limit;
        List<R> page = more ? rows.subList(0, limit) : rows;
        String next = more ? cursor.apply(page.get(page.size() - 1)) : null;
        return new CursorPage<>(page.stream().map(view).toList(), more, next);
    }

    /** Checks a client's {@code limit}: 1 … {@value #MAX_LIMIT}, default {@value #DEFAULT_LIMIT}. */
    public static int checkedLimit(Integer limit) {
        if (limit == null) {
            return DEFAULT_LIMIT;
        }
        if (limit < 1 || limit > MAX_LIMIT) {
            throw ApiProblem.badRequest("limit", "must be between 1 and " + MAX_LIMIT + ", got " + limit);
        }
        return limit;
    }
}
