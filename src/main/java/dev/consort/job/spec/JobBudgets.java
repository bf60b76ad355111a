package dev.consort.job.spec;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

import dev.consort.engine.MemoryEstimate;
import dev.consort.web.ApiProblem.FieldError;
import dev.consort.web.ByteSizes;

/**
 * What one job may take, bound from {@code consort.budgets.*}: a job whose estimate exceeds a budget is refused at
 * submission with a 422 that names the budget and gives the estimate, rather than accepted and discovered by a
 * dying worker.
 *
 * @param memory      a worker's memory for one job at its peak ({@link MemoryEstimate})
 * @param disk        the blobs one job writes: checkpoints and its saved training state
 * @param checkpoints the checkpoints one job writes
 * @param tokens      the tokens one job trains on
 */
@ConfigurationProperties("consort.budgets")
public record JobBudgets(
        @DefaultValue("16GB") DataSize memory,
        @DefaultValue("200GB") DataSize disk,
        @DefaultValue("1000") int checkpoints,
        @DefaultValue("100000000000") long tokens) {

    public JobBudgets {
        if (memory.toBytes() < 1 || disk.toBytes() < 1 || checkpoints < 1 || tokens < 1) {
            throw new IllegalArgumentException("consort.budgets.memory, disk, checkpoints and tokens must be positive");
        }
    }

    /**
     * What a job will take: its peak memory, the bytes and checkpoints it writes and the tokens it trains on; the
     * field each belongs to names what the user changes to shrink it.
     */
    public record Estimate(String memoryField, MemoryEstimate memory, String diskField, long diskBytes,
            long checkpoints, String tokensField, long tokens) {

        public static Estimate memoryOnly(String field, MemoryEstimate memory) {
            return new Estimate(field, memory, null, 0, 0, null, 0);
        }
    }

    /** The budgets {@code estimate} exceeds, each as a problem on its field; empty when it fits. */
    public List<FieldError> check(Estimate estimate) {
        List<FieldError> errors = new ArrayList<>();
        long peak = estimate.memory().total();
        if (peak > memory.toBytes()) {
            errors.add(new FieldError(estimate.memoryField(), String.format(Locale.ROOT,
                    "the job needs about %s of memory at its peak (%s), over the memory budget of %s "
                            + "(consort.budgets.memory)", ByteSizes.readable(peak), parts(estimate.memory().parts()),
                    ByteSizes.readable(memory.toBytes()))));
        }
        if (estimate.checkpoints() > checkpoints) {
            errors.add(new FieldError(estimate.diskField(), String.format(Locale.ROOT,
                    "the job would write %d checkpoints, over the budget of %d per job (consort.budgets.checkpoints)",
                    estimate.checkpoints(), checkpoints)));
        } else if (estimate.diskBytes() > disk.toBytes()) {
            errors.add(new FieldError(estimate.diskField(), String.format(Locale.ROOT,
                    "the job would write about %s (%d checkpoints and its saved state), over the disk budget of %s "
                            + "(consort.budgets.disk)", ByteSizes.readable(estimate.diskBytes()), estimate.checkpoints(),
                    ByteSizes.readable(disk.toBytes()))));
        }
        if (estimate.tokens() > tokens) {
            errors.add(new FieldError(estimate.tokensField(), String.format(Locale.ROOT,
                    "the job would train on %,d tokens, over the budget of %,d (consort.budgets.tokens)",
                    estimate.tokens(), tokens)));
        }
        return errors;
    }

    private static String parts(Map<String, Long> parts) {
        List<String> named = new ArrayList<>();
        parts.forEach((name, size) -> {
            if (size > 0) {
                named.add(name.replace('_', ' ') + " " + ByteSizes.readable(size));
            }
        });
        return String.join(", ", named);
    }
}
