package dev.consort.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Throughput of the engine on this machine for GPT-2 124M (12 layers, width 768, 12 heads, vocabulary
 * 50257, random initialisation), context 256, batch 8: training and evaluation tokens/s, their achieved
 * GFLOP/s as a fraction of a plain 2048³ fp32 matmul measured in the same JVM, and peak RSS.
 * Not a test: run it with {@code mvn -q -Pbench test-compile exec:exec} (see BENCHMARKS.md).
 *
 * <p>FLOPs counted: N = non-embedding parameters + the V·C output projection (the lm_head matmul);
 * training 6·N per token plus attention 12·n_layer·T·C per token (QKᵀ and AV, forward and backward,
 * full T×T as computed); evaluation 2·N per token.
 *
 * <p>Arguments (optional): training steps measured (default 3), evaluation batches measured (default 3).
 * One extra step and one extra batch run first as warm-up. The machine may be shared, so each measured
 * step and batch is paired with a matmul timed right after it, and its share is taken of that one.
 */
public final class EngineBenchmark {

    private static final int LAYERS = 12;
    private static final int WIDTH = 768;
    private static final int HEADS = 12;
    private static final int VOCAB = 50257;
    private static final int CONTEXT = 256;
    private static final int BATCH = 8;

    private EngineBenchmark() {}

    public static void main(String[] args) throws Exception {
        int trainSteps = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int evalBatches = args.length > 1 ? Integer.parseInt(args[1]) : 3;
        Gpt2Config config = new Gpt2Config(LAYERS, WIDTH, HEADS, 4 * WIDTH, VOCAB, 1024, 1e-5);
        String loadBefore = loadAverage();

        try (Gpt2Model model = Gpt2Model.randomInit(config, 1, Device.cpu())) {
            System.out.printf("cores %d, PyTorch intra-op threads %d%n", Runtime.getRuntime().availableProcessors(),
                    JniUtils.getNumThreads());
            long nonEmbedding = 0;
            for (var parameter : model.parameters().entrySet()) {
                if (!parameter.getKey().startsWith("wte.") && !parameter.getKey().startsWith("wpe.")) {
                    nonEmbedding += parameter.getValue().size();
                }
            }
            long flopParameters = nonEmbedding + (long) VOCAB * WIDTH;
            System.out.printf("parameters %,d; non-embedding %,d; N for FLOPs (with lm_head) %,d%n",
                    model.parameterCount(), nonEmbedding, flopParameters);
            TokenSequence tokens = TokenSequence.of(new SplittableRandom(2).ints(400_000, 0, VOCAB).toArray());

            // The machine may be shared: every measured step or batch is paired with a matmul measured right
            // after it, and compared with that one.
            List<double[]> train = new ArrayList<>();
            TrainingPlan plan = TrainingPlan.builder(1 + trainSteps).batchSize(BATCH).context(CONTEXT)
                    .learningRate(6e-4).trainable(TrainingPlan.Trainable.ALL).build();
            double trainFlopsPerToken = 6.0 * flopParameters + 12.0 * LAYERS * CONTEXT * WIDTH;
            try (Trainer trainer = new Trainer(model, plan, tokens, null)) {
                trainer.run(new TrainingListener() {
                    @Override
                    public void onStep(Step step) {
                        double seconds = plan.tokensPerStep() / step.tokensPerSecond();
                        double matmul = matmulGflops();
                        System.out.printf("train step %d: %.2f s, loss %.4f; matmul after it %.1f GFLOP/s%n",
                                step.step(), seconds, step.loss(), matmul);
                        if (step.step() > 1) {
                            train.add(new double[] {seconds, matmul});
                        }
                    }
                });
            }
            List<double[]> eval = new ArrayList<>();
            Evaluator.evaluate(model, tokens, CONTEXT, BATCH, BATCH);
            for (int batch = 0; batch < evalBatches; batch++) {
                long start = System.nanoTime();
                Evaluator.evaluate(model, tokens, CONTEXT, BATCH, BATCH);
                double seconds = (System.nanoTime() - start) / 1e9;
                double matmul = matmulGflops();
                System.out.printf("eval batch %d: %.2f s; matmul after it %.1f GFLOP/s%n", batch + 1, seconds, matmul);
                eval.add(new double[] {seconds, matmul});
            }

            long peakRssKb = peakRssKb();
            System.out.println();
            System.out.printf("load average before %s, after %s%n", loadBefore, loadAverage());
            System.out.println("| measure | mean | best |");
            System.out.println("|---|---|---|");
            report("fp32 matmul 2048³ (beside each measurement)", train, eval);
            report(String.format("training, B=%d, T=%d, AdamW, all tensors", BATCH, CONTEXT), train,
                    plan.tokensPerStep(), trainFlopsPerToken);
            report(String.format("evaluation, B=%d, T=%d", BATCH, CONTEXT), eval, (long) BATCH * CONTEXT,
                    2.0 * flopParameters);
            System.out.printf("| peak RSS (VmHWM) | %.2f GiB | |%n", peakRssKb / 1024.0 / 1024.0);
        }
    }

    private static void report(String what, List<double[]> train, List<double[]> eval) {
        List<double[]> all = new ArrayList<>(train);
        all.addAll(eval);
        double mean = all.stream().mapToDouble(pair -> pair[1]).average().orElseThrow();
        double best = all.stream().mapToDouble(pair -> pair[1]).max().orElseThrow();
        System.out.printf("| %s | %.1f GFLOP/s | %.1f GFLOP/s |%n", what, mean, best);
    }

    /** Mean and best (fastest) of the pairs {seconds, matmul GFLOP/s}: tokens/s, GFLOP/s, share of the matmul. */
    private static void report(String what, List<double[]> pairs, long tokens, double flopsPerToken) {
        double meanSeconds = pairs.stream().mapToDouble(pair -> pair[0]).average().orElseThrow();
        double meanShare = pairs.stream().mapToDouble(pair -> tokens * flopsPerToken / pair[0] / 1e9 / pair[1])
                .average().orElseThrow();
        double[] best = pairs.stream().min((a, b) -> Double.compare(a[0], b[0])).orElseThrow();
        System.out.printf("| %s | %.0f tokens/s, %.2f s, %.1f GFLOP/s, %.0f%% of matmul | %.0f tokens/s, %.2f s, "
                + "%.1f GFLOP/s, %.0f%% of matmul |%n", what, tokens / meanSeconds, meanSeconds,
                tokens * flopsPerToken / meanSeconds / 1e9, 100 * meanShare, tokens / best[0], best[0],
                tokens * flopsPerToken / best[0] / 1e9, 100 * tokens * flopsPerToken / best[0] / 1e9 / best[1]);
    }

    /** Best of three 2048×2048 by 2048×2048 fp32 matmuls after a warm-up, in GFLOP/s. */
    private static double matmulGflops() {
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            NDArray a = manager.randomNormal(new Shape(2048, 2048));
            NDArray b = manager.randomNormal(new Shape(2048, 2048));
            double best = Double.MAX_VALUE;
            for (int i = 0; i < 4; i++) {
                long start = System.nanoTime();
                a.matMul(b).getFloat(0, 0);
                double seconds = (System.nanoTime() - start) / 1e9;
                if (i >= 1) {
                    best = Math.min(best, seconds);
                }
            }
            return 2.0 * 2048 * 2048 * 2048 / best / 1e9;
        }
    }

    private static String loadAverage() throws IOException {
        return String.join(" ", Arrays.asList(Files.readString(Path.of("/proc/loadavg")).split(" ")).subList(0, 3));
    }

    private static long peakRssKb() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
