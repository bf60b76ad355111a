package dev.consort.job.spec;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;

import dev.consort.engine.Gpt2Config;
import dev.consort.engine.MemoryEstimate;

/** Each budget refuses what exceeds it, on the field the estimate names, and lets through what fits. */
class JobBudgetsTest {

    private final Gpt2Config model = new Gpt2Config(2, 16, 2, 64, 50257, 64, 1e-5);

    @Test
    void anEvaluationOverTheMemoryBudgetIsRefusedWithItsParts() {
        MemoryEstimate estimate = MemoryEstimate.evaluation(model, 1, 4096, 64);
        JobBudgets roomy = new JobBudgets(DataSize.ofGigabytes(16), DataSize.ofGigabytes(1), 10, 1000);
        assertThat(roomy.check(JobBudgets.Estimate.memoryOnly("batch_size", estimate))).isEmpty();

        JobBudgets tight = new JobBudgets(DataSize.ofMegabytes(100), DataSize.ofGigabytes(1), 10, 1000);
        var errors = tight.check(JobBudgets.Estimate.memoryOnly("batch_size", estimate));
        assertThat(errors).hasSize(1);
        assertThat(errors.get(0).field()).isEqualTo("batch_size");
        // Two loss chunks of 512 × 50257 floats: 196.3 MiB.
        assertThat(errors.get(0).message()).contains("over the memory budget of 100.0 MiB").contains("logits 196.3 MiB");
    }

    @Test
    void checkpointsDiskAndTokensHaveBudgetsOfTheirOwn() {
        JobBudgets budgets = new JobBudgets(DataSize.ofGigabytes(16), DataSize.ofMegabytes(1), 10, 1000);
        MemoryEstimate small = MemoryEstimate.evaluation(model, 1, 1, 8);
        var many = budgets.check(new JobBudgets.Estimate("m", small, "training.checkpoint_every", 10, 11,
                "training.steps", 1001));
        assertThat(many).extracting(e -> e.field()).containsExactly("training.checkpoint_every", "training.steps");
        assertThat(many.get(0).message()).contains("11 checkpoints, over the budget of 10");
        var heavy = budgets.check(new JobBudgets.Estimate("m", small, "training.checkpoint_every", 2L << 20, 3,
                "training.steps", 10));
        assertThat(heavy).singleElement().satisfies(e -> assertThat(e.message()).contains("about 2.0 MiB")
                .contains("disk budget of 1.0 MiB"));
    }
}
