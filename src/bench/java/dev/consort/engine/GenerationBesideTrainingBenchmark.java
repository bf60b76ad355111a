package dev.consort.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import ai.djl.Device;
import ai.djl.pytorch.jni.JniUtils;

/**
 * What text generation in the same process does to a training worker: the reproduction's small shape (4 × 128,
 * vocabulary 50,257), trained with AdamW on batches of 4 × 128 tokens on one thread, alone and while a second thread
 * generates greedily without pause (64-token prompt, 64 new tokens, over and over), as the api process's completion
 * requests would. Rounds alternate the conditions, so a shared machine's load falls on all of them; the medians of
 * the training steps' tokens/s are reported with their ratios to training alone, and the generation's tokens/s.
 *
 * <p>Conditions: training alone; beside generation on the default intra-op threads; beside generation whose thread
 * first asked libtorch for one intra-op thread ({@code JniUtils.setNumThreads(1)} on that thread).
 * Not a test: {@code mvn -q -Pbench test-compile exec:exec -Dbench.main=dev.consort.engine.GenerationBesideTrainingBenchmark}.
 *
 * <p>Arguments (optional): rounds (default 3), training steps per round and condition (default 6; the first of
 * each is a warm-up and not counted).
 */
public final class GenerationBesideTrainingBenchmark {

    private static final Gpt2Config SMALL = new Gpt2Config(4, 128, 4, 512, 50257, 1024, 1e-5);
    private static final int PROMPT = 64;
    private static final int NEW_TOKENS = 64;

    private enum Condition { ALONE, BESIDE_GENERATION, BESIDE_ONE_THREAD_GENERATION }

    private GenerationBesideTrainingBenchmark() {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 3;
        int steps = args.length > 1 ? Integer.parseInt(args[1]) : 6;
        TokenSequence tokens = TokenSequence.of(new SplittableRandom(2).ints(200_000, 0, 50257).toArray());
        int[] prompt = new SplittableRandom(3).ints(PROMPT, 0, 50257).toArray();
        List<List<Double>> training = new ArrayList<>();
        List<List<Double>> generation = new ArrayList<>();
        for (int c = 0; c < Condition.values().length; c++) {
            training.add(new ArrayList<>());
            generation.add(new ArrayList<>());
        }
        try (Gpt2Model trained = Gpt2Model.randomInit(SMALL, 1, Device.cpu());
             Gpt2Model generating = Gpt2Model.randomInit(SMALL, 2, Device.cpu())) {
            System.out.printf("cores %d, PyTorch intra-op threads %d; training 4 x 128, batch 4 x 128, %d steps per "
                    + "round and condition%n", Runtime.getRuntime().availableProcessors(), JniUtils.getNumThreads(),
                    steps);
            for (int round = 0; round < rounds; round++) {
                for (Condition condition : Condition.values()) {
                    AtomicBoolean stop = new AtomicBoolean();
                    AtomicLong generated = new AtomicLong();
                    Thread generator = null;
                    if (condition != Condition.ALONE) {
                        boolean oneThread = condition == Condition.BESIDE_ONE_THREAD_GENERATION;
                        generator = new Thread(() -> generateUntil(generating, prompt, stop, generated, oneThread));
                        generator.start();
                    }
                    long start = System.nanoTime();
                    List<Double> rates = train(trained, tokens, steps, round);
                    double seconds = (System.nanoTime() - start) / 1e9;
                    stop.set(true);
                    if (generator != null) {
                        generator.join();
                    }
                    training.get(condition.ordinal()).addAll(rates);
                    generation.get(condition.ordinal()).add(generated.get() / seconds);
                    System.out.printf("round %d, %s: training %s tokens/s; generation %.1f tokens/s; training "
                            + "thread's intra-op threads %d%n", round + 1, condition, rates.stream()
                            .map(r -> String.format("%.0f", r)).toList(), generated.get() / seconds,
                            JniUtils.getNumThreads());
                }
            }
        }
        double alone = median(training.get(Condition.ALONE.ordinal()));
        System.out.println();
        System.out.println("| condition | training tokens/s (median) | vs alone | generation tokens/s |");
        System.out.println("|---|---|---|---|");
        for (Condition condition : Condition.values()) {
            double median = median(training.get(condition.ordinal()));
            System.out.printf("| %s | %.0f | %.2fx | %s |%n", condition, median, median / alone,
                    condition == Condition.ALONE ? "-" : String.format("%.1f", median(generation.get(condition.ordinal()))));
        }
    }

    /** Tokens/s of each step after the first of {@code steps} AdamW steps on batches of 4 × 128. */
    static List<Double> train(Gpt2Model model, TokenSequence tokens, int steps, long seed) throws Exception {
        List<Double> rates = new ArrayList<>();
        TrainingPlan plan = TrainingPlan.builder(steps).batchSize(4).context(128).learningRate(1e-4).seed(seed)
                .trainable(TrainingPlan.Trainable.ALL).build();
        try (Trainer trainer = new Trainer(model, plan, tokens, null)) {
            trainer.run(new TrainingListener() {
                @Override
                public void onStep(Step step) {
                    if (step.step() > 1) {
                        rates.add(step.tokensPerSecond());
                    }
                }
            });
        }
        return rates;
    }

    private static void generateUntil(Gpt2Model model, int[] prompt, AtomicBoolean stop, AtomicLong generated,
            boolean oneThread) {
        if (oneThread) {
            JniUtils.setNumThreads(1);
        }
        while (!stop.get()) {
            Generator.generate(model, null, prompt, NEW_TOKENS, new TokenSampler(0, 0, 1, 0), 50257, -1, token -> {
                generated.incrementAndGet();
                return !stop.get();
            });
        }
    }

    private static double median(List<Double> values) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
