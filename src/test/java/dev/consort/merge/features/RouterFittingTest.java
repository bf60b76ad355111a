package dev.consort.merge.features;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.djl.Device;
import dev.consort.engine.Evaluator;
import dev.consort.engine.Gpt2Config;
import dev.consort.engine.Gpt2Model;
import dev.consort.engine.StepLoop;
import dev.consort.engine.TokenSequence;
import dev.consort.engine.Trainer;
import dev.consort.engine.TrainingListener;
import dev.consort.engine.TrainingPlan;
import dev.consort.safetensors.DType;

/**
 * Router fitting on a constructed task: from one tiny base, expert A is fine-tuned (MLP only, with the
 * engine's Trainer) on text A and expert B on text B; the adaptation data interleaves both texts, so each
 * expert is good on half of it and a per-token router can beat any fixed interpolation.
 */
class RouterFittingTest {

    /** 2 layers, width 32, 2 heads, vocabulary 64, 32 positions. */
    private static final Gpt2Config CONFIG = new Gpt2Config(2, 32, 2, 128, 64, 32, 1e-5);
    private static final int CONTEXT = 32;

    private static Gpt2Model base;
    private static Gpt2Model expertA;
    private static Gpt2Model expertB;
    private static TokenSequence adaptation;
    private static TokenSequence adaptationValidation;

    /** A 24-token phrase over tokens [from, from + 32), written over and over from a phrase position. */
    private static int[] phraseText(long seed, int from, int offset, int length) {
        int[] phrase = new SplittableRandom(seed).ints(24, from, from + 32).toArray();
        int[] tokens = new int[length];
        for (int i = 0; i < length; i++) {
            tokens[i] = phrase[(offset + i) % phrase.length];
        }
        return tokens;
    }

    /** Blocks of 40 tokens of text A and text B in turn. */
    private static TokenSequence interleaved(int blocks, int offset) {
        int[] tokens = new int[blocks * 40];
        for (int block = 0; block < blocks; block++) {
            int[] text = block % 2 == 0
                    ? phraseText(1, 0, offset + block * 7, 40)
                    : phraseText(2, 32, offset + block * 5, 40);
            System.arraycopy(text, 0, tokens, block * 40, 40);
        }
        return TokenSequence.of(tokens);
    }

    /** The base fine-tuned (MLP only, as the paper's specialists) on {@code text}. */
    private static Gpt2Model specialist(Path baseFile, TokenSequence text) throws Exception {
        Gpt2Model model = Gpt2Model.load(baseFile, CONFIG, Device.cpu());
        TrainingPlan plan = TrainingPlan.builder(60).batchSize(8).context(CONTEXT).learningRate(1e-2)
                .trainable(TrainingPlan.Trainable.MLP).seed(5).build();
        try (Trainer trainer = new Trainer(model, plan, text, null)) {
            trainer.run(new TrainingListener() {});
        }
        return model;
    }

    @BeforeAll
    static void specialists(@TempDir Path dir) throws Exception {
        // A base that knows "general" text over the whole vocabulary (every weight trained), so that its
        // embeddings and attention are not random and MLP-only fine-tuning can specialise it.
        base = Gpt2Model.randomInit(CONFIG, 1, Device.cpu());
        int[] general = new SplittableRandom(3).ints(48, 0, 64).toArray();
        int[] generalText = new int[2000];
        for (int i = 0; i < generalText.length; i++) {
            generalText[i] = general[i % general.length];
        }
        TrainingPlan pretraining = TrainingPlan.builder(100).batchSize(8).context(CONTEXT).learningRate(1e-2)
                .warmupSteps(10).trainable(TrainingPlan.Trainable.ALL).seed(4).build();
        try (Trainer trainer = new Trainer(base, pretraining, TokenSequence.of(generalText), null)) {
            trainer.run(new TrainingListener() {});
        }
        Path baseFile = dir.resolve("base.safetensors");
        base.save(baseFile, DType.F32);
        expertA = specialist(baseFile, TokenSequence.of(phraseText(1, 0, 0, 2000)));
        expertB = specialist(baseFile, TokenSequence.of(phraseText(2, 32, 0, 2000)));
        adaptation = interleaved(60, 0);
        adaptationValidation = interleaved(12, 3);
    }

    @AfterAll
    static void close() {
        for (Gpt2Model model : List.of(base, expertA, expertB)) {
            model.close();
        }
    }

    private static Map<String, float[]> weights(Gpt2Model... models) {
        Map<String, float[]> weights = new LinkedHashMap<>();
        for (int m = 0; m < models.length; m++) {
            int index = m;
            models[m].parameters().forEach((name, array) -> weights.put(index + "/" + name, array.toFloatArray()));
        }
        return weights;
    }

    /** Records every report; stops before step {@code stopBefore} when positive. */
    private static final class Recorder implements RouterFitListener {
        final List<TrainingListener.Step> steps = new ArrayList<>();
        final List<Integer> validations = new ArrayList<>();
        final List<Double> validationLosses = new ArrayList<>();
        final List<Boolean> best = new ArrayList<>();
        int stopBefore;

        @Override
        public void onStep(TrainingListener.Step step) {
            steps.add(step);
        }

        @Override
        public void onValidation(int step, long tokens, Evaluator.Result result, boolean isBest) {
            validations.add(step);
            validationLosses.add(result.loss());
            best.add(isBest);
        }

        @Override
        public void checkStop() {
            if (stopBefore > 0 && steps.size() + 1 == stopBefore) {
                throw new IllegalStateException("stop");
            }
        }
    }

    @Test
    void theExpertsAreEachGoodOnTheirOwnHalf() {
        TokenSequence textA = TokenSequence.of(phraseText(1, 0, 5, 400));
        TokenSequence textB = TokenSequence.of(phraseText(2, 32, 5, 400));
        double aOnA = Evaluator.evaluate(expertA, textA, CONTEXT, 100, 8).loss();
        double bOnA = Evaluator.evaluate(expertB, textA, CONTEXT, 100, 8).loss();
        double bOnB = Evaluator.evaluate(expertB, textB, CONTEXT, 100, 8).loss();
        double aOnB = Evaluator.evaluate(expertA, textB, CONTEXT, 100, 8).loss();
        System.out.printf("A on A %.4f, B on A %.4f, B on B %.4f, A on B %.4f%n", aOnA, bOnA, bOnB, aOnB);
        assertThat(aOnA).isLessThan(bOnA - 1);
        assertThat(bOnB).isLessThan(aOnB - 1);
    }

    @Test
    void aFittedLayerRouterBeatsTheBestActivationInterpolation() throws Exception {
        AlphaSearch.Result interpolation = AlphaSearch.search(base, expertA, expertB, AlphaSearch.DEFAULT_GRID,
                adaptationValidation, CONTEXT, 100, 8, new AlphaSearch.Listener() {});
        TrainingPlan plan = RouterFitting.plan(100).batchSize(8).context(CONTEXT).evalEvery(25).evalWindows(100)
                .seed(1).build();
        Recorder recorder = new Recorder();
        try (RoutedModel routed = RoutedModel.create(RoutingSpec.layerRouting(RouterKind.LINEAR), base,
                List.of(expertA, expertB))) {
            RouterFitting.Result result = RouterFitting.fit(routed, plan, adaptation, adaptationValidation, recorder);
            double routedLoss = routed.evaluate(adaptationValidation, CONTEXT, 100, 8).loss();
            // Printed for the record (the test report's output file).
            System.out.printf("alpha curve %s%nbest alpha %.1f: %.4f; layer routing %.4f (best step %d)%n",
                    interpolation.curve().stream().map(p -> String.format("%.1f:%.4f", p.alpha(), p.result().loss()))
                            .toList(),
                    interpolation.best().alpha(), interpolation.best().result().loss(), routedLoss, result.bestStep());
            assertThat(routedLoss).isLessThan(interpolation.best().result().loss() - 0.2);
            // The routers kept are those of the best validation step.
            assertThat(routedLoss).isCloseTo(result.bestValidationLoss(), within(1e-6));
            assertThat(result.bestValidationLoss()).isEqualTo(
                    recorder.validationLosses.stream().mapToDouble(Double::doubleValue).min().orElseThrow());
            assertThat(recorder.validations).containsExactly(0, 25, 50, 75, 100);
            assertThat(recorder.validations.get(recorder.best.lastIndexOf(true))).isEqualTo(result.bestStep());
            assertThat(recorder.steps).extracting(TrainingListener.Step::step)
                    .containsExactlyElementsOf(IntStream.rangeClosed(1, 100).boxed().toList());
            assertThat(recorder.steps.get(0).learningRate()).isCloseTo(5e-3, within(1e-12));
            assertThat(recorder.steps.get(99).learningRate()).isCloseTo(5e-4, within(1e-12));
            assertThat(recorder.steps.get(99).loss()).isLessThan(recorder.steps.get(0).loss());
            assertThat(result.tokens()).isEqualTo(100L * 8 * CONTEXT);
        }
    }

    /** Patience stops the fitting once validation stops improving; the best routers are kept all the same. */
    @Test
    void patienceStopsTheFittingWhenValidationStopsImproving() throws Exception {
        // A learning rate far too high: the validation loss soon gets worse and the fitting must stop there.
        TrainingPlan plan = RouterFitting.plan(200).batchSize(4).context(CONTEXT).evalEvery(1).evalWindows(8)
                .learningRate(1.0).seed(2).build();
        Recorder recorder = new Recorder();
        try (RoutedModel routed = RoutedModel.create(RoutingSpec.layerRouting(RouterKind.LINEAR), base,
                List.of(expertA, expertB))) {
            RouterFitting.Result result = RouterFitting.fit(routed, plan, adaptation, adaptationValidation, 2, recorder);
            assertThat(result.stoppedEarly()).isTrue();
            assertThat(result.steps()).isLessThan(200).isEqualTo(recorder.steps.size());
            // It stopped at the second validation in a row that did not improve on the best.
            List<Boolean> best = recorder.best;
            assertThat(best.subList(best.size() - 2, best.size())).containsExactly(false, false);
            assertThat(best.subList(0, best.size() - 2)).doesNotContainSequence(false, false);
            assertThat(routed.evaluate(adaptationValidation, CONTEXT, 8, 4).loss())
                    .isCloseTo(result.bestValidationLoss(), within(1e-6));
        }
    }

    @Test
    void fittingChangesOnlyTheRoutersAndEveryModelTensorStaysBitIdentical() throws Exception {
        Map<String, float[]> before = weights(base, expertA, expertB);
        TrainingPlan plan = RouterFitting.plan(6).batchSize(4).context(CONTEXT).evalEvery(3).evalWindows(4).build();
        for (RoutingSpec spec : List.of(
                RoutingSpec.layerRouting(RouterKind.MLP).withIncludeBase(true).withTopK(2),
                RoutingSpec.singleRouter(RouterKind.LINEAR),
                RoutingSpec.multiLayerRouting(RouterKind.LINEAR, 2))) {
            try (RoutedModel routed = RoutedModel.create(spec, base, List.of(expertA, expertB))) {
                Map<String, float[]> routersBefore = new LinkedHashMap<>();
                routed.routerParameters().forEach((name, array) -> routersBefore.put(name, array.toFloatArray()));
                // No validation: the last step's routers are kept, so they must have moved.
                RouterFitting.Result result =
                        RouterFitting.fit(routed, plan, adaptation, null, new RouterFitListener() {});
                assertThat(result.bestStep()).isEqualTo(-1);
                routed.routerParameters().forEach((name, array) -> {
                    assertThat(array.toFloatArray()).as(name).isNotEqualTo(routersBefore.get(name));
                    assertThat(array.hasGradient()).as(name).isFalse();
                });
            }
        }
        Map<String, float[]> after = weights(base, expertA, expertB);
        for (String name : before.keySet()) {
            assertThat(after.get(name)).as(name).isEqualTo(before.get(name));
        }
        for (Gpt2Model model : List.of(base, expertA, expertB)) {
            assertThat(model.parameters().values()).allSatisfy(p -> assertThat(p.hasGradient()).isFalse());
        }
    }

    @Test
    void aStopEndsTheFittingWithTheBestRoutersSoFarAndReleasesTheGradientLock() throws Exception {
        TrainingPlan plan = RouterFitting.plan(50).batchSize(4).context(CONTEXT).evalEvery(2).evalWindows(8).build();
        Recorder recorder = new Recorder();
        recorder.stopBefore = 6;
        try (RoutedModel routed = RoutedModel.create(RoutingSpec.layerRouting(RouterKind.LINEAR), base,
                List.of(expertA, expertB))) {
            assertThatThrownBy(() -> RouterFitting.fit(routed, plan, adaptation, adaptationValidation, recorder))
                    .hasMessage("stop");
            assertThat(recorder.steps).hasSize(5);
            assertThat(recorder.validations).containsExactly(0, 2, 4);
            double bestSoFar = recorder.validationLosses.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
            assertThat(routed.evaluate(adaptationValidation, CONTEXT, 8, 4).loss()).isCloseTo(bestSoFar, within(1e-6));
        }
        assertThat(StepLoop.GRADIENT_LOCK.isLocked()).isFalse();
    }

    @Test
    void liveArraysStayConstantOverManySteps() throws Exception {
        TrainingPlan plan = RouterFitting.plan(40).batchSize(2).context(16).evalEvery(10).evalWindows(4).build();
        Map<Integer, Integer> liveArrays = new LinkedHashMap<>();
        try (RoutedModel routed = RoutedModel.create(RoutingSpec.layerRouting(RouterKind.MLP).withTopK(1), base,
                List.of(expertA, expertB))) {
            RouterFitting.fit(routed, plan, adaptation, adaptationValidation, new RouterFitListener() {
                @Override
                public void onStep(TrainingListener.Step step) {
                    if (step.step() == 10 || step.step() == 40) {
                        liveArrays.put(step.step(), base.manager().getManagedArrays().size());
                    }
                }
            });
        }
        assertThat(liveArrays).containsOnlyKeys(10, 40);
        assertThat(liveArrays.get(40)).isEqualTo(liveArrays.get(10));
    }

    @Test
    void activationInterpolationHasNothingToFit() {
        try (RoutedModel routed = RoutedModel.create(RoutingSpec.activationInterpolation(0.5), base,
                List.of(expertA, expertB))) {
            assertThatThrownBy(() -> RouterFitting.fit(routed, RouterFitting.plan(5).context(CONTEXT).build(),
                    adaptation, null, new RouterFitListener() {})).hasMessageContaining("no routers");
        }
    }
}
