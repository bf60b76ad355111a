package dev.consort.worker;

import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.springframework.stereotype.Component;

import com.fasterxml.jackson.annotation.JsonProperty;

import dev.consort.job.JobContext;
import dev.consort.job.JobFailedException;
import dev.consort.job.JobHandler;
import dev.consort.job.spec.InputRef;
import dev.consort.job.spec.JobSpec;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;

/**
 * A test-only job type, {@code test.count}: takes {@code steps} steps of {@code step_millis} each,
 * records a loss point per step, and counts how many times each job was started and completed, so
 * tests can check exactly-once execution. At {@code fail_at} it fails as {@code fail_with} says.
 */
@Component
public class CountingTestHandler implements JobHandler<CountingTestHandler.Spec, CountingTestHandler.Spec> {

    public static final String TYPE = "test.count";
    public static final Map<UUID, AtomicInteger> STARTS = new ConcurrentHashMap<>();
    public static final Map<UUID, AtomicInteger> COMPLETIONS = new ConcurrentHashMap<>();
    /** The step each start of a job resumed after (0 when it started from scratch). */
    public static final Map<UUID, List<Integer>> RESUMED_AFTER = new ConcurrentHashMap<>();

    public record Spec(
            @NotNull @Min(1) @Max(10_000) Integer steps,
            @JsonProperty("step_millis") @Min(0) @Max(10_000) Integer stepMillis,
            @JsonProperty("fail_at") Integer failAt,
            @JsonProperty("fail_with") String failWith,
            @JsonProperty("state_every") @Min(1) Integer stateEvery) implements JobSpec {
        @Override
        public List<InputRef> inputs() {
            return List.of();
        }
    }

    @Override
    public String type() {
        return TYPE;
    }

    @Override
    public Class<Spec> specType() {
        return Spec.class;
    }

    @Override
    public Class<Spec> planType() {
        return Spec.class;
    }

    @Override
    public Spec plan(Spec spec) {
        return spec;
    }

    /** Internal to the tests: not part of the API contract. */
    @Override
    public boolean documented() {
        return false;
    }

    @Override
    public Object run(Spec spec, JobContext context) throws Exception {
        STARTS.computeIfAbsent(context.jobId(), id -> new AtomicInteger()).incrementAndGet();
        int done = 0;
        var saved = context.savedState();
        if (saved.isPresent()) {
            try (var in = saved.get()) {
                done = Integer.parseInt(new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        RESUMED_AFTER.computeIfAbsent(context.jobId(), id -> new java.util.concurrent.CopyOnWriteArrayList<>()).add(done);
        for (int step = done + 1; step <= spec.steps(); step++) {
            context.checkCancelled();
            if (spec.stepMillis() != null && spec.stepMillis() > 0) {
                Thread.sleep(spec.stepMillis());
            }
            if (spec.failAt() != null && spec.failAt() == step) {
                fail(spec.failWith(), step);
            }
            context.loss("train", step, step * 16L, 1.0 / step);
            context.progress(Map.of("step", step, "steps", spec.steps()));
            if (spec.stateEvery() != null && step % spec.stateEvery() == 0) {
                context.saveState(new java.io.ByteArrayInputStream(
                        Integer.toString(step).getBytes(java.nio.charset.StandardCharsets.UTF_8)));
            }
        }
        COMPLETIONS.computeIfAbsent(context.jobId(), id -> new AtomicInteger()).incrementAndGet();
        return Map.of("steps", spec.steps());
    }

    /** How a job fails at its {@code fail_at} step: by default a {@link JobFailedException}. */
    private static void fail(String failWith, int step) throws JobFailedException {
        String message = "failed at step " + step + " as asked";
        switch (failWith == null ? "job" : failWith) {
            case "out_of_memory" -> throw new OutOfMemoryError("Java heap space (" + message + ")");
            case "stack_overflow" -> throw new StackOverflowError(message);
            // As libtorch reports a failed CPU allocation through DJL.
            case "native_out_of_memory" -> throw new ai.djl.engine.EngineException("[enforce fail at alloc_cpu.cpp:117] "
                    + "data. DefaultCPUAllocator: not enough memory: you tried to allocate 1099511627776 bytes.");
            case "assertion" -> throw new AssertionError(message);
            default -> throw new JobFailedException("test_failure", message);
        }
    }
}
