package dev.consort.merge.weights;

import java.util.List;

/**
 * A weight-space merge method, applied tensor by tensor with mergekit's semantics: given one tensor of
 * every model (and of the base, for methods that use one) and the method's parameters resolved for that
 * tensor, it returns the merged tensor. Methods declare their parameters, so requests are validated and
 * resolved the same way for all of them; {@link WeightMergeMethods} finds them by name.
 */
public interface WeightMergeMethod {

    /** How a method uses a request's {@code base_model}. */
    enum BaseModelRole {
        /** Merges the listed models only; a {@code base_model} must be one of them, and is merged like the others. */
        NONE,
        /** Interpolates two models; {@code base_model}, when given, is the first (the t = 0 end). */
        FIRST_MODEL,
        /**
         * Merges task vectors, the models' differences from {@code base_model}: the base is required, is not
         * one of the models merged (a {@code models} entry naming it is the base, and takes no parameters),
         * and the models are assumed fine-tuned from it.
         */
        ORIGIN
    }

    /** The name requests use, mergekit's {@code merge_method}. */
    String name();

    BaseModelRole baseModelRole();

    /** The parameters the method reads, with their scope, defaults and ranges. */
    List<ParameterSpec> parameters();

    /** The fewest models the method merges (the base not counted). */
    int minModels();

    /** The most models the method merges (the base not counted). */
    default int maxModels() {
        return Integer.MAX_VALUE;
    }

    /**
     * Adds what is wrong with the parameters resolved for {@code tensor} beyond their ranges (checked for
     * every tensor before anything is merged).
     */
    default void check(String tensor, TensorParameters parameters, List<MergeProblem> problems) {
    }

    /**
     * Merges one tensor; {@code tensor.base()} is null unless {@link #baseModelRole()} is {@link BaseModelRole#ORIGIN}.
     * May overwrite the arrays it is given and return one of them.
     */
    float[] merge(TensorInputs tensor);
}
