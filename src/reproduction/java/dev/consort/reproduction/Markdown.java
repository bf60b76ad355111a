package dev.consort.reproduction;

import java.time.Duration;
import java.time.Instant;
import java.util.Locale;

import tools.jackson.databind.JsonNode;

/** How the reports write the service's numbers: intervals, standard errors, turns, job durations. */
final class Markdown {

    private Markdown() {}

    /** {@code +0.0754 [+0.0368, +0.1140]}; the estimate alone when the interval is missing, a dash when all is. */
    static String interval(JsonNode interval, String estimate) {
        if (!interval.path(estimate).isNumber()) {
            return "–";
        }
        if (!interval.path("ci95_low").isNumber()) {
            return String.format(Locale.ROOT, "%+.4f", interval.path(estimate).asDouble());
        }
        return String.format(Locale.ROOT, "%+.4f [%+.4f, %+.4f]", interval.path(estimate).asDouble(),
                interval.path("ci95_low").asDouble(), interval.path("ci95_high").asDouble());
    }

    /** A row's {@code field} with its standard error ({@code field_se}). */
    static String withSe(JsonNode row, String field) {
        return String.format(Locale.ROOT, "%.4f ± %.4f", row.path(field).asDouble(), row.path(field + "_se").asDouble());
    }

    /** A sweep's {@code expert_*_turn}: the lowest step, the last step against it, and whether it turns up. */
    static String turn(JsonNode turn) {
        return turn.path("lowest_step").asLong() + ", " + interval(turn.path("last_step_minus_lowest"), "difference")
                + (turn.path("turns_upward").asBoolean() ? " **turns up**" : "");
    }

    static String num(JsonNode value) {
        return value.isNumber() ? String.format(Locale.ROOT, "%.4f", value.asDouble()) : "–";
    }

    /** The service's running time of a job: {@code finished_at − started_at}. */
    static long jobSeconds(JsonNode job) {
        if (!job.path("started_at").isString() || !job.path("finished_at").isString()) {
            return 0;
        }
        return Duration.between(Instant.parse(job.path("started_at").asString()),
                Instant.parse(job.path("finished_at").asString())).toSeconds();
    }
}
