package dev.consort.cka;

import java.util.Locale;

/** How CKA is estimated from a sample: the plain (biased) linear estimator or the debiased HSIC₁ one. */
public enum CkaEstimator {
    /** ‖YᵀX‖²_F / (‖XᵀX‖_F ‖YᵀY‖_F) on column-centred features; biased upwards for small samples. */
    LINEAR,
    /** The same ratio over unbiased HSIC₁ estimates (Song et al. 2012); near 0 for independent features. */
    DEBIASED;

    /** The estimator named as in a job spec: {@code linear} or {@code debiased}. */
    public static CkaEstimator named(String name) {
        return valueOf(name.toUpperCase(Locale.ROOT));
    }

    /** The name used in job specs and results. */
    public String specName() {
        return name().toLowerCase(Locale.ROOT);
    }
}
