package dev.consort.cka;

/**
 * The feature-space sums from which both CKA estimators follow, for R representations over n rows
 * (rows x_i of representation r, y_i of representation s; all sums over the n rows):
 * <ul>
 *   <li>{@code gramSquares[r][s]} = ‖Σ x_i y_iᵀ‖²_F (uncentred cross-product),</li>
 *   <li>{@code sumGramSum[r][s]} = s_xᵀ (Σ x_i y_iᵀ) s_y with s_x = Σ x_i,</li>
 *   <li>{@code sumSquares[r]} = ‖s_x‖²,</li>
 *   <li>{@code sumNormWeighted[r][s]} = s_xᵀ Σ x_i ‖y_i‖²,</li>
 *   <li>{@code normProducts[r][s]} = Σ ‖x_i‖² ‖y_i‖²,</li>
 *   <li>{@code normSums[r]} = Σ ‖x_i‖².</li>
 * </ul>
 * All are taken after a constant shift of each representation; both estimators are exactly invariant
 * to it, and it keeps the float32 products away from the cancellation a large mean would cause.
 */
record CkaStatistics(long n, double[][] gramSquares, double[][] sumGramSum, double[] sumSquares,
                     double[][] sumNormWeighted, double[][] normProducts, double[] normSums) {

    int size() {
        return sumSquares.length;
    }

    /**
     * Linear CKA: with centred cross-products C = Σ x_i y_iᵀ − s_x s_yᵀ / n,
     * ‖C‖²_F = ‖Σ x_i y_iᵀ‖²_F − 2 s_xᵀ(Σ x_i y_iᵀ)s_y / n + ‖s_x‖²‖s_y‖² / n², and
     * CKA(r, s) = ‖C_rs‖²_F / (‖C_rr‖_F ‖C_ss‖_F).
     */
    CkaMatrix linear() {
        if (n < 2) {
            throw new IllegalStateException("linear CKA needs at least 2 rows, got " + n);
        }
        double[][] centred = new double[size()][size()];
        for (int r = 0; r < size(); r++) {
            for (int s = r; s < size(); s++) {
                centred[r][s] = centred[s][r] = gramSquares[r][s] - 2.0 * sumGramSum[r][s] / n
                        + sumSquares[r] * sumSquares[s] / ((double) n * n);
            }
        }
        return normalised(centred);
    }

    /**
     * Debiased CKA over HSIC₁(K, L) = [tr(K̃L̃) + (1ᵀK̃1)(1ᵀL̃1) / ((n−1)(n−2)) − 2·1ᵀK̃L̃1 / (n−2)] / (n(n−3)),
     * K̃ = XXᵀ with a zeroed diagonal, in feature space:
     * tr(K̃L̃) = ‖Σ x_i y_iᵀ‖²_F − Σ‖x_i‖²‖y_i‖²; 1ᵀK̃1 = ‖s_x‖² − Σ‖x_i‖²;
     * 1ᵀK̃L̃1 = Σ (x_i·s_x − ‖x_i‖²)(y_i·s_y − ‖y_i‖²)
     *        = s_xᵀ(Σ x_i y_iᵀ)s_y − s_xᵀΣ x_i‖y_i‖² − s_yᵀΣ y_i‖x_i‖² + Σ‖x_i‖²‖y_i‖².
     */
    CkaMatrix debiased() {
        if (n < 4) {
            throw new IllegalStateException("debiased CKA needs at least 4 rows, got " + n);
        }
        double[][] hsic = new double[size()][size()];
        double count = n;
        for (int r = 0; r < size(); r++) {
            for (int s = r; s < size(); s++) {
                double traceKL = gramSquares[r][s] - normProducts[r][s];
                double sumK = sumSquares[r] - normSums[r];
                double sumL = sumSquares[s] - normSums[s];
                double sumKL = sumGramSum[r][s] - sumNormWeighted[r][s] - sumNormWeighted[s][r] + normProducts[r][s];
                hsic[r][s] = hsic[s][r] = (traceKL + sumK * sumL / ((count - 1) * (count - 2)) - 2.0 * sumKL / (count - 2))
                        / (count * (count - 3));
            }
        }
        return normalised(hsic);
    }

    /**
     * sim(r, s) / sqrt(sim(r, r) sim(s, s)); NaN where a self-similarity is not positive. The input is
     * computed for r ≤ s and mirrored, so the result is exactly symmetric.
     */
    private static CkaMatrix normalised(double[][] similarity) {
        int size = similarity.length;
        double[][] cka = new double[size][size];
        for (int r = 0; r < size; r++) {
            for (int s = 0; s < size; s++) {
                // two square roots rather than one of the product, which can overflow for large activations
                cka[r][s] = similarity[r][r] > 0 && similarity[s][s] > 0
                        ? similarity[r][s] / (Math.sqrt(similarity[r][r]) * Math.sqrt(similarity[s][s]))
                        : Double.NaN;
            }
        }
        return new CkaMatrix(cka);
    }
}
