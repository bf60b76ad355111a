package dev.consort.engine;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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
 * One extra step and one extra batch run first as warm-up.
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

        double matmulGflops = matmulGflops();
        System.out.printf("cores %d, PyTorch intra-op threads %d%n", Runtime.getRuntime().availableProcessors(),
                JniUtils.getNumThreads());
        System.out.printf("matmul 2048^3 fp32: %.1f GFLOP/s%n", matmulGflops);

        long nonEmbedding = 0;
        try (Gpt2Model model = Gpt2Model.randomInit(config, 1, Device.cpu())) {
            for (var parameter : model.parameters().entrySet()) {
                if (!parameter.getKey().startsWith("wte.") && !parameter.getKey().startsWith("wpe.")) {
                    nonEmbedding += parameter.getValue().size();
                }
            }
            long flopParameters = nonEmbedding + (long) VOCAB * WIDTH;
            System.out.printf("parameters %,d; non-embedding %,d; N for FLOPs (with lm_head) %,d%n",
                    model.parameterCount(), nonEmbedding, flopParameters);

            TokenSequence tokens = TokenSequence.of(new SplittableRandom(2).ints(400_000, 0, VOCAB).toArray());

            // Training: one warm-up step, then the measured ones.
            TrainingPlan plan = TrainingPlan.builder(1 + trainSteps).batchSize(BATCH).context(CONTEXT)
                    .learningRate(6e-4).trainable(TrainingPlan.Trainable.ALL).build();
            List<Double> stepSeconds = new ArrayList<>();
            List<Double> losses = new ArrayList<>();
            try (Trainer trainer = new Trainer(model, plan, tokens, null)) {
                trainer.run(new TrainingListener() {
                    @Override
                    public void onStep(Step step) {
                        double seconds = plan.tokensPerStep() / step.tokensPerSecond();
                        System.out.printf("train step %d: %.2f s, loss %.4f%n", step.step(), seconds, step.loss());
                        if (step.step() > 1) {
                            stepSeconds.add(seconds);
                        }
                        losses.add(step.loss());
                    }
                });
            }
            double trainSeconds = stepSeconds.stream().mapToDouble(Double::doubleValue).average().orElseThrow();
            double trainTokensPerSecond = plan.tokensPerStep() / trainSeconds;
            double trainFlopsPerToken = 6.0 * flopParameters + 12.0 * LAYERS * CONTEXT * WIDTH;
            double trainGflops = trainTokensPerSecond * trainFlopsPerToken / 1e9;

            // Evaluation: one warm-up batch, then the measured batches.
            Evaluator.evaluate(model, tokens, CONTEXT, BATCH, BATCH);
            long start = System.nanoTime();
            Evaluator.Result result = Evaluator.evaluate(model, tokens, CONTEXT, BATCH * evalBatches, BATCH);
            double evalSeconds = (System.nanoTime() - start) / 1e9;
            double evalTokensPerSecond = result.tokens() / evalSeconds;
            double evalGflops = evalTokensPerSecond * 2.0 * flopParameters / 1e9;
            System.out.printf("eval %d windows: %.2f s, loss %.4f%n", result.windows(), evalSeconds, result.loss());

            long peakRssKb = peakRssKb();
            System.out.println();
            System.out.println("| measure | value |");
            System.out.println("|---|---|");
            System.out.printf("| fp32 matmul 2048³ | %.1f GFLOP/s |%n", matmulGflops);
            System.out.printf("| training (B=%d, T=%d, AdamW, all tensors) | %.0f tokens/s, %.2f s/step, %.1f GFLOP/s = %.0f%% of matmul |%n",
                    BATCH, CONTEXT, trainTokensPerSecond, trainSeconds, trainGflops, 100 * trainGflops / matmulGflops);
            System.out.printf("| evaluation (B=%d, T=%d) | %.0f tokens/s, %.1f GFLOP/s = %.0f%% of matmul |%n",
                    BATCH, CONTEXT, evalTokensPerSecond, evalGflops, 100 * evalGflops / matmulGflops);
            System.out.printf("| peak RSS (VmHWM) | %.2f GiB |%n", peakRssKb / 1024.0 / 1024.0);
        }
    }

    /** Best of five 2048×2048 by 2048×2048 fp32 matmuls after two warm-ups, in GFLOP/s. */
    private static double matmulGflops() {
        try (NDManager manager = NDManager.newBaseManager(Device.cpu())) {
            NDArray a = manager.randomNormal(new Shape(2048, 2048));
            NDArray b = manager.randomNormal(new Shape(2048, 2048));
            double best = Double.MAX_VALUE;
            for (int i = 0; i < 7; i++) {
                try (NDManager scope = manager.newSubManager()) {
                    a.tempAttach(scope);
                    long start = System.nanoTime();
                    a.matMul(b).getFloat(0, 0);
                    double seconds = (System.nanoTime() - start) / 1e9;
                    if (i >= 2) {
                        best = Math.min(best, seconds);
                    }
                }
            }
            return 2.0 * 2048 * 2048 * 2048 / best / 1e9;
        }
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
