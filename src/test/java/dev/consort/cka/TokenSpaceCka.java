package dev.consort.cka;

/**
 * CKA computed the textbook way, independently of {@link CkaAccumulator}: n × n Gram matrices of plain
 * doubles in token space. Linear: HSIC = tr(K H L H) with H = I − 11ᵀ/n. Debiased: HSIC₁ on K̃ = K with
 * its diagonal zeroed, [tr(K̃L̃) + (1ᵀK̃1)(1ᵀL̃1)/((n−1)(n−2)) − 2/(n−2)·1ᵀK̃L̃1] / (n(n−3)).
 */
final class TokenSpaceCka {

    private TokenSpaceCka() {
    }

    static double linear(double[][] x, double[][] y) {
        double[][] k = gram(x);
        double[][] l = gram(y);
        return centredHsic(k, l) / Math.sqrt(centredHsic(k, k) * centredHsic(l, l));
    }

    static double debiased(double[][] x, double[][] y) {
        double[][] k = gram(x);
        double[][] l = gram(y);
        return unbiasedHsic(k, l) / Math.sqrt(unbiasedHsic(k, k) * unbiasedHsic(l, l));
    }

    private static double[][] gram(double[][] x) {
        int n = x.length;
        double[][] k = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                double dot = 0;
                for (int c = 0; c < x[i].length; c++) {
                    dot += x[i][c] * x[j][c];
                }
                k[i][j] = dot;
            }
        }
        return k;
    }

    private static double[][] multiply(double[][] a, double[][] b) {
        int n = a.length;
        double[][] product = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int m = 0; m < n; m++) {
                for (int j = 0; j < n; j++) {
                    product[i][j] += a[i][m] * b[m][j];
                }
            }
        }
        return product;
    }

    private static double trace(double[][] a) {
        double trace = 0;
        for (int i = 0; i < a.length; i++) {
            trace += a[i][i];
        }
        return trace;
    }

    private static double centredHsic(double[][] k, double[][] l) {
        int n = k.length;
        double[][] h = new double[n][n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                h[i][j] = (i == j ? 1.0 : 0.0) - 1.0 / n;
            }
        }
        return trace(multiply(multiply(k, h), multiply(l, h))) / ((n - 1.0) * (n - 1.0));
    }

    private static double unbiasedHsic(double[][] k, double[][] l) {
        int n = k.length;
        double[][] kt = withoutDiagonal(k);
        double[][] lt = withoutDiagonal(l);
        double[][] kl = multiply(kt, lt);
        double sumK = 0;
        double sumL = 0;
        double sumKL = 0;
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                sumK += kt[i][j];
                sumL += lt[i][j];
                sumKL += kl[i][j];
            }
        }
        return (trace(kl) + sumK * sumL / ((n - 1.0) * (n - 2.0)) - 2.0 / (n - 2.0) * sumKL) / (n * (n - 3.0));
    }

    private static double[][] withoutDiagonal(double[][] k) {
        double[][] copy = new double[k.length][];
        for (int i = 0; i < k.length; i++) {
            copy[i] = k[i].clone();
            copy[i][i] = 0;
        }
        return copy;
    }
}
