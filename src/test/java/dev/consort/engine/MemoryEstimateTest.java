package dev.consort.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;

import org.junit.jupiter.api.Test;

/** The estimate's parts, each checkable by hand from the model's shape. */
class MemoryEstimateTest {

    private static final Gpt2Config GPT2_SMALL = new Gpt2Config(12, 768, 12, 3072, 50257, 1024, 1e-5);

    @Test
    void gpt2SmallHasItsWellKnownParameterCount() {
        assertThat(MemoryEstimate.parameters(GPT2_SMALL)).isEqualTo(124_439_808L);
        // 12 × (768 × 3072 × 2 + 3072 + 768)
        assertThat(MemoryEstimate.mlpParameters(GPT2_SMALL)).isEqualTo(56_669_184L);
    }

    @Test
    void theParameterCountIsTheSumOfTheCheckpointsTensors() {
        Gpt2Config tiny = new Gpt2Config(3, 24, 4, 40, 97, 32, 1e-5);
        long tensors = Gpt2TensorLayout.expected(tiny).values().stream()
                .mapToLong(shape -> Arrays.stream(shape).reduce(1, (a, b) -> a * b)).sum();
        assertThat(MemoryEstimate.parameters(tiny)).isEqualTo(tensors);
    }

    @Test
    void trainingCountsGradientsAndMomentsOfTheTrainedTensorsOnly() {
        MemoryEstimate all = MemoryEstimate.training(GPT2_SMALL, false, 8, 256);
        MemoryEstimate mlp = MemoryEstimate.training(GPT2_SMALL, true, 8, 256);
        assertThat(all.weights()).isEqualTo(4 * 124_439_808L);
        assertThat(all.gradients()).isEqualTo(4 * 124_439_808L);
        assertThat(all.optimizer()).isEqualTo(8 * 124_439_808L);
        assertThat(mlp.gradients()).isEqualTo(4 * 56_669_184L);
        // 4 bytes × 8 × 256 positions × (9 × 768 + 2 × 3072) × 12 layers
        assertThat(all.activations()).isEqualTo(4L * 8 * 256 * (9 * 768 + 2 * 3072) * 12);
        // 4 bytes × 2 × 8 windows × 12 heads × 256² × 12 layers
        assertThat(all.attention()).isEqualTo(4L * 2 * 8 * 12 * 256 * 256 * 12);
        assertThat(all.hostArrays()).isEqualTo(2L * 4 * 8 * 256);
        assertThat(all.total()).isEqualTo(Arrays.stream(all.parts().values().toArray(Long[]::new))
                .mapToLong(Long::longValue).sum());
    }

    /** CkaAccumulator's own figure: 24 representations of width 768 take 1.4 GB of float64 accumulators. */
    @Test
    void ckaAccumulatorsGrowWithTheSquareOfAllLayersWidths() {
        Gpt2Config deep = new Gpt2Config(24, 768, 12, 3072, 50257, 1024, 1e-5);
        MemoryEstimate within = MemoryEstimate.similarity(deep, null, 8, 128, 2048);
        long width = 24 * 768;
        assertThat(within.statistics()).isEqualTo(8 * (width * width / 2 + 24L * 768 * 768 / 2) + 4L * 2048 * width);
        assertThat(8 * (width * width / 2 + 24L * 768 * 768 / 2)).isEqualTo(1_415_577_600L);
        MemoryEstimate pair = MemoryEstimate.similarity(GPT2_SMALL, GPT2_SMALL, 8, 128, 2048);
        assertThat(pair.weights()).isEqualTo(2 * 4 * 124_439_808L);
    }

    @Test
    void anAbsurdRequestSaturatesInsteadOfOverflowing() {
        Gpt2Config huge = new Gpt2Config(256, 16_384, 16_384, 65_536, 1_000_000, 65_536, 1e-5);
        MemoryEstimate estimate = MemoryEstimate.training(huge, false, 4096, 65_536);
        assertThat(estimate.attention()).isEqualTo(Long.MAX_VALUE);
        assertThat(estimate.total()).isEqualTo(Long.MAX_VALUE);
    }
}
