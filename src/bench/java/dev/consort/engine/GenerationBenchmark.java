package dev.consort.engine;

import java.util.Arrays;
import java.util.SplittableRandom;

import ai.djl.Device;
import ai.djl.pytorch.jni.JniUtils;
import dev.consort.support.FullForwardGreedy;

/**
 * Greedy generation tokens/s with the KV cache ({@link Generator}) against without it (a forward pass over the whole
 * sequence for every new token), for GPT-2 124M (12 × 768) and the reproduction's small shape (4 × 128), both
 * with the full 50,257-token vocabulary, random initialisation: a 64-token prompt, 64 new tokens, one sequence.
 * Each way runs {@code rounds} times, alternating, after a warm-up of each; the medians are reported with their
 * ratio. Not a test: {@code mvn -q -Pbench test-compile exec:exec -Dbench.main=dev.consort.engine.GenerationBenchmark}.
 *
 * <p>Argument (optional): rounds (default 3).
 */
public final class GenerationBenchmark {

    private static final int PROMPT = 64;
    private static final int NEW_TOKENS = 64;

    private GenerationBenchmark() {}

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        System.out.printf("cores %d; prompt %d tokens, %d new, greedy, batch 1%n",
                Runtime.getRuntime().availableProcessors(), PROMPT, NEW_TOKENS);
        measure("GPT-2 124M (12 x 768)", new Gpt2Config(12, 768, 12, 3072, 50257, 1024, 1e-5), rounds);
        measure("small (4 x 128)", new Gpt2Config(4, 128, 4, 512, 50257, 1024, 1e-5), rounds);
    }

    private static void measure(String name, Gpt2Config config, int rounds) {
        int[] prompt = new SplittableRandom(3).ints(PROMPT, 0, 50257).toArray();
        try (Gpt2Model model = Gpt2Model.randomInit(config, 1, Device.cpu())) {
            System.out.printf("PyTorch intra-op threads %d%n", JniUtils.getNumThreads());
            int[] cached = withCache(model, prompt);
            int[] uncached = withoutCache(model, prompt);
            if (!Arrays.equals(cached, uncached)) {
                throw new IllegalStateException("the cache changed the greedy tokens");
            }
            double[] withCache = new double[rounds];
            double[] without = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                long start = System.nanoTime();
                withCache(model, prompt);
                withCache[r] = NEW_TOKENS / ((System.nanoTime() - start) / 1e9);
                start = System.nanoTime();
                withoutCache(model, prompt);
                without[r] = NEW_TOKENS / ((System.nanoTime() - start) / 1e9);
            }
            double cacheMedian = median(withCache);
            double withoutMedian = median(without);
            System.out.printf("%s: with the KV cache %.1f tokens/s %s; without %.1f tokens/s %s; ratio %.1fx%n", name,
                    cacheMedian, Arrays.toString(round(withCache)), withoutMedian, Arrays.toString(round(without)),
                    cacheMedian / withoutMedian);
        }
    }

    private static int[] withCache(Gpt2Model model, int[] prompt) {
        return Generator.generate(model, null, prompt, NEW_TOKENS, new TokenSampler(0, 0, 1, 0), 50257, -1,
                token -> true).tokens();
    }

    /** What generation costs without a cache: the whole sequence through the model for every new token. */
    private static int[] withoutCache(Gpt2Model model, int[] prompt) {
        return FullForwardGreedy.continuation(model, prompt, NEW_TOKENS);
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }

    private static double[] round(double[] values) {
        return Arrays.stream(values).map(v -> Math.round(v * 10) / 10.0).toArray();
    }
}
