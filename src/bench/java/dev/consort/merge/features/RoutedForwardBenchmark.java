package dev.consort.merge.features;

import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

import com.sun.management.OperatingSystemMXBean;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.consort.engine.Gpt2Config;
import dev.consort.engine.Gpt2Model;

/**
 * Routed forward time per token as a ratio of the base model's forward, against the ratio of their FLOPs
 * (target: time ratio within 1.2 × the FLOP ratio). GPT-2-124M-shaped random models (12 layers, width 768,
 * 12 heads, vocabulary 50257), {@code layer_routing} over 2 experts with linear routers, dense weights.
 * Inference (grad mode off); the two forwards alternate so that a busy machine slows both alike, and the
 * median of the repetitions counts. Numbers and command: BENCHMARKS-routing.md.
 *
 * <pre>
 * mvn -B -q test-compile exec:java -Dexec.classpathScope=test \
 *     -Dexec.mainClass=dev.consort.merge.features.RoutedForwardBenchmark -Dexec.args="8 256 5"
 * </pre>
 *
 * Arguments: batch (8), context (256), repetitions (5).
 */
public final class RoutedForwardBenchmark {

    private static final Gpt2Config GPT2_124M = new Gpt2Config(12, 768, 12, 3072, 50257, 1024, 1e-5);
    private static final int EXPERTS = 2;

    private RoutedForwardBenchmark() {}

    public static void main(String[] args) {
        if (System.getProperty("ai.djl.offline") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        int batch = args.length > 0 ? Integer.parseInt(args[0]) : 8;
        int context = args.length > 1 ? Integer.parseInt(args[1]) : 256;
        int repetitions = args.length > 2 ? Integer.parseInt(args[2]) : 5;
        Gpt2Config config = GPT2_124M;
        Engine.getInstance();  // loads the PyTorch natives before the first JNI call
        JniUtils.setGradMode(false);
        try (Gpt2Model base = Gpt2Model.randomInit(config, 1, Device.cpu());
                Gpt2Model expertA = Gpt2Model.randomInit(config, 2, Device.cpu());
                Gpt2Model expertB = Gpt2Model.randomInit(config, 3, Device.cpu());
                RoutedModel routed = RoutedModel.create(RoutingSpec.layerRouting(RouterKind.LINEAR), base,
                        List.of(expertA, expertB))) {
            int[] tokens = new SplittableRandom(4).ints((long) batch * context, 0, config.vocabSize()).toArray();
            Function<NDArray, NDArray> baseForward = base::forward;
            Function<NDArray, NDArray> routedForward = routed::forward;
            // Warm-up: the first passes allocate and pick kernels.
            measure(base, tokens, batch, context, baseForward);
            measure(base, tokens, batch, context, routedForward);
            double[][] baseTimes = new double[2][repetitions];
            double[][] routedTimes = new double[2][repetitions];
            for (int r = 0; r < repetitions; r++) {
                double[] baseTime = measure(base, tokens, batch, context, baseForward);
                double[] routedTime = measure(base, tokens, batch, context, routedForward);
                for (int kind = 0; kind < 2; kind++) {
                    baseTimes[kind][r] = baseTime[kind];
                    routedTimes[kind][r] = routedTime[kind];
                }
                System.out.printf("repetition %d: base %.3f s (CPU %.3f s), routed %.3f s (CPU %.3f s)%n", r + 1,
                        baseTime[0], baseTime[1], routedTime[0], routedTime[1]);
            }
            long positions = (long) batch * context;
            long baseFlops = baseFlopsPerToken(config, context);
            long routedFlops = routedFlopsPerToken(config, context, EXPERTS);
            double flopRatio = (double) routedFlops / baseFlops;
            System.out.printf("GPT-2 124M shape, %d experts, layer_routing (linear, dense), batch %d x context %d, "
                    + "%d CPUs, PyTorch intra-op threads %s%n", EXPERTS, batch, context,
                    Runtime.getRuntime().availableProcessors(),
                    System.getProperty("ai.djl.pytorch.num_threads", "default"));
            System.out.printf("| forward | GFLOP/token | wall s (median) | us/token | CPU s (median) "
                    + "| GFLOP/s of wall |%n"
                    + "|---|---|---|---|---|---|%n");
            for (int model = 0; model < 2; model++) {
                double[][] times = model == 0 ? baseTimes : routedTimes;
                long flops = model == 0 ? baseFlops : routedFlops;
                System.out.printf("| %s | %.3f | %.3f | %.1f | %.3f | %.1f |%n", model == 0 ? "base" : "routed",
                        flops / 1e9, median(times[0]), median(times[0]) / positions * 1e6, median(times[1]),
                        flops * positions / median(times[0]) / 1e9);
            }
            double wallRatio = median(routedTimes[0]) / median(baseTimes[0]);
            double cpuRatio = median(routedTimes[1]) / median(baseTimes[1]);
            System.out.printf("FLOP ratio %.3f; wall-time ratio %.3f (%.3f x the FLOP ratio); CPU-time ratio %.3f "
                    + "(%.3f x the FLOP ratio); target <= 1.2 x%n", flopRatio, wallRatio, wallRatio / flopRatio,
                    cpuRatio, cpuRatio / flopRatio);
        }
    }

    /**
     * One forward of the batch, in a sub-manager closed afterwards, the hidden states read back to the host:
     * {wall seconds, process CPU seconds} (CPU time is the steadier one on a machine shared with others).
     */
    private static double[] measure(Gpt2Model base, int[] tokens, int batch, int context,
            Function<NDArray, NDArray> forward) {
        OperatingSystemMXBean os = (OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        try (NDManager scope = base.manager().newSubManager()) {
            NDArray x = scope.create(tokens, new Shape(batch, context));
            long cpuStart = os.getProcessCpuTime();
            long start = System.nanoTime();
            forward.apply(x).toFloatArray();
            return new double[] {(System.nanoTime() - start) / 1e9, (os.getProcessCpuTime() - cpuStart) / 1e9};
        }
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    /**
     * Matmul FLOPs (2 per multiply-add) per token of the base forward to the hidden states: per layer
     * c_attn 6C², attention scores and values 4TC (the full T×T, as the engine computes it), c_proj 2C²,
     * MLP 4CI. Layer norms, GELU, softmax and additions are left out (a few per cent).
     */
    static long baseFlopsPerToken(Gpt2Config config, int context) {
        long c = config.nEmbd();
        return config.nLayer() * (8 * c * c + 4L * context * c + 4 * c * config.nInner());
    }

    /** The same with M experts' MLPs per layer and a linear router (2CM). */
    static long routedFlopsPerToken(Gpt2Config config, int context, int experts) {
        long c = config.nEmbd();
        return config.nLayer() * (8 * c * c + 4L * context * c + experts * 4 * c * config.nInner() + 2 * c * experts);
    }
}
