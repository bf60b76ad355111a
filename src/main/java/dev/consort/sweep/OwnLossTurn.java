package dev.consort.sweep;

import java.util.LinkedHashMap;
import java.util.Map;

import dev.consort.evaluation.Interval;

/**
 * Whether one expert over-specialises along a sweep: its own loss on the adaptation data is lowest at some step
 * before the last, and the last step is worse than that step beyond the paired 95% interval over the same
 * windows. This is the condition under which the paper's U can appear: a specialist that still improves on the
 * target at its last step has not yet specialised past the point where merging pays.
 */
final class OwnLossTurn {

    private OwnLossTurn() {}

    /**
     * @param steps  the steps in order
     * @param losses the expert's loss at each step on each window, {@code [step][window]}, the same windows for all
     */
    static Map<String, Object> find(long[] steps, double[][] losses) {
        double[] means = CriticalStep.means(losses, null);
        int lowest = CriticalStep.argmin(means);
        int last = steps.length - 1;
        Interval rise = Interval.ofDifference(losses[last], losses[lowest]);
        Map<String, Object> turn = new LinkedHashMap<>();
        turn.put("lowest_step", steps[lowest]);
        turn.put("lowest_loss", means[lowest]);
        turn.put("last_step_minus_lowest", rise.toMap("difference"));
        turn.put("turns_upward", lowest < last && rise.aboveZero());
        return turn;
    }
}
