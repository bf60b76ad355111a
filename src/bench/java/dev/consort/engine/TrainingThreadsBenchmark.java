package dev.consort.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import ai.djl.Device;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Training tokens/s of the reproduction's small shape (4 × 128, vocabulary 50,257, AdamW, all tensors, batches of
 * 4 × 128 tokens) with this JVM's libtorch intra-op threads ({@code -Dai.djl.pytorch.num_threads}), optionally
 * beside {@code busy} other processes spinning on the CPU (what another job, a build or a notebook does to a
 * worker). One run per setting: {@code scripts/bench-threads.sh} runs the grid (BENCHMARKS.md).
 *
 * <p>Arguments: busy processes (default 0), steps timed after one warm-up step (default 12).
 */
public final class TrainingThreadsBenchmark {

    private TrainingThreadsBenchmark() {}

    public static void main(String[] args) throws Exception {
        int busy = args.length > 0 ? Integer.parseInt(args[0]) : 0;
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 12;
        List<Process> spinners = new ArrayList<>();
        try (Gpt2Model model = Gpt2Model.randomInit(new Gpt2Config(4, 128, 4, 512, 50257, 1024, 1e-5), 1,
                Device.cpu())) {
            for (int i = 0; i < busy; i++) {
                // A process that only spins: sh's busy loop, nothing to do with Java or libtorch.
                spinners.add(new ProcessBuilder("sh", "-c", "while :; do :; done").start());
            }
            TokenSequence tokens = TokenSequence.of(new SplittableRandom(2).ints(200_000, 0, 50257).toArray());
            List<Double> rates = GenerationBesideTrainingBenchmark.train(model, tokens, steps + 1, 0);
            double[] sorted = rates.stream().mapToDouble(Double::doubleValue).sorted().toArray();
            System.out.printf("| %d | %d | %.0f | %s |%n", JniUtils.getNumThreads(), busy, sorted[sorted.length / 2],
                    Arrays.toString(Arrays.stream(sorted).map(Math::round).toArray()));
        } finally {
            spinners.forEach(Process::destroyForcibly);
        }
    }
}
