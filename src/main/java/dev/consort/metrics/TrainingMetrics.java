package dev.consort.metrics;

import java.time.Duration;

import org.springframework.stereotype.Component;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

/**
 * Training throughput, for training code to report each optimiser step: its wall time and the tokens it
 * processed. Prometheus derives tokens per second from the counter's rate. Safe from any thread.
 */
@Component
public class TrainingMetrics {

    private final Timer steps;
    private final Counter tokens;

    public TrainingMetrics(MeterRegistry registry) {
        this.steps = Timer.builder("consort.training.step")
                .description("Wall time of one training step (forward, backward, optimiser)")
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofMinutes(10))
                .register(registry);
        this.tokens = Counter.builder("consort.training.tokens")
                .description("Tokens processed by training steps")
                .register(registry);
    }

    public void recordStep(Duration stepTime, long tokensProcessed) {
        steps.record(stepTime);
        tokens.increment(tokensProcessed);
    }
}
