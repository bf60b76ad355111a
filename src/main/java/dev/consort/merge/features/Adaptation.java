package dev.consort.merge.features;

import dev.consort.engine.TokenSequence;
import dev.consort.engine.TrainingPlan;

/**
 * What a {@link FeatureMergeMethod} may adapt a routed model with, and where it reports: the adaptation
 * data's splits, the windows that score it, the router-fitting plan, and loss points and stop checks for the
 * job that runs it.
 */
public interface Adaptation {

    /** The adaptation data's training split. */
    TokenSequence train();

    /** Its validation split; null when it has none. */
    TokenSequence validation();

    /** The data a search scores candidates on: the validation split, or the training split without one. */
    default TokenSequence scoring() {
        return validation() != null ? validation() : train();
    }

    /** Window length for scoring {@code tokens}. */
    int context(TokenSequence tokens);

    /** Windows scored per candidate. */
    int maxWindows();

    /** Windows per forward pass. */
    int batchSize();

    /** How routers are fitted. */
    TrainingPlan routerPlan();

    /** Validations without improvement that stop router fitting early; 0 to run the whole plan. */
    default int routerPatience() {
        return 0;
    }

    /** Records a point of the loss curve {@code series} (e.g. {@code alpha}, {@code router_train}). */
    void loss(String series, long step, long tokens, double value);

    /** Throws (e.g. a cancellation exception) to stop between steps. */
    void checkStop();
}
