package dev.consort.sweep;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import dev.consort.evaluation.Interval;

/**
 * The critical step of a sweep, the step of lowest merge loss, with what the windows say about it: a 95%
 * bootstrap interval of the step (the windows resampled with replacement, the same resample for every step, so
 * the steps stay paired), and whether the minimum is interior, that is neither the first nor the last step,
 * with the last step's merge loss higher beyond its paired 95% interval. Only then has merging stopped paying
 * within the sweep; otherwise the verdict says why not.
 */
final class CriticalStep {

    static final int RESAMPLES = 1000;

    private CriticalStep() {}

    /**
     * @param steps       the steps in order
     * @param mergeLosses each step's merge loss on each window, {@code [step][window]}, the same windows for all
     */
    static Map<String, Object> find(long[] steps, double[][] mergeLosses, long seed) {
        double[] means = means(mergeLosses, null);
        int best = argmin(means);
        int last = steps.length - 1;
        Interval rise = Interval.ofDifference(mergeLosses[last], mergeLosses[best]);
        Map<String, Object> critical = new LinkedHashMap<>();
        critical.put("critical_step", steps[best]);
        critical.put("critical_merge_loss", means[best]);
        long[] interval = bootstrap(steps, mergeLosses, seed);
        critical.put("critical_step_ci95", List.of(interval[0], interval[1]));
        boolean interior = best > 0 && best < last && rise.aboveZero();
        critical.put("interior_minimum", interior);
        critical.put("last_step_minus_critical", rise.toMap("difference"));
        critical.put("verdict", best == last ? "no interior minimum: the merge loss is lowest at the last step"
                : best == 0 ? "no interior minimum: no step merges better than step " + steps[0]
                : interior ? "interior minimum at step " + steps[best] + ": the last step merges worse beyond the noise"
                : "no interior minimum beyond the noise: the last step is within the interval of step " + steps[best]);
        return critical;
    }

    /** The 2.5% and 97.5% quantiles of the argmin step over window resamples. */
    private static long[] bootstrap(long[] steps, double[][] mergeLosses, long seed) {
        int windows = mergeLosses[0].length;
        SplittableRandom random = new SplittableRandom(seed);
        long[] argmins = new long[RESAMPLES];
        int[] sample = new int[windows];
        for (int r = 0; r < RESAMPLES; r++) {
            for (int w = 0; w < windows; w++) {
                sample[w] = random.nextInt(windows);
            }
            argmins[r] = steps[argmin(means(mergeLosses, sample))];
        }
        Arrays.sort(argmins);
        return new long[] {argmins[(int) Math.floor(0.025 * (RESAMPLES - 1))],
                argmins[(int) Math.ceil(0.975 * (RESAMPLES - 1))]};
    }

    /** Each step's mean over the windows, or over the resampled windows {@code sample}. */
    static double[] means(double[][] losses, int[] sample) {
        double[] means = new double[losses.length];
        for (int s = 0; s < losses.length; s++) {
            double sum = 0;
            int n = sample == null ? losses[s].length : sample.length;
            for (int i = 0; i < n; i++) {
                sum += losses[s][sample == null ? i : sample[i]];
            }
            means[s] = sum / n;
        }
        return means;
    }

    static int argmin(double[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] < values[best]) {
                best = i;
            }
        }
        return best;
    }
}
