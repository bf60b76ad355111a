package dev.consort.merge.weights;

/**
 * Task arithmetic (Ilharco et al., arXiv 2212.04089): base + λ·Σ wᵢ(θᵢ − base); {@code normalize} (default
 * false) divides by Σ wᵢ.
 */
final class TaskArithmeticMerge extends TaskVectorMerge {

    TaskArithmeticMerge() {
        super("task_arithmetic", null, false, false, false);
    }
}
