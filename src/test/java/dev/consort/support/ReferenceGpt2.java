package dev.consort.support;

import java.util.HashMap;
import java.util.Map;

/**
 * GPT-2 in plain Java doubles, written straight from the math and independently of the DJL model, to
 * check it: token + position embeddings, pre-LN blocks with causal multi-head attention and a
 * gelu_new MLP, the final layer norm, logits against the tied token embedding, mean cross-entropy.
 * Weights are HF-named row-major arrays; Conv1D weights are [in, out].
 */
public final class ReferenceGpt2 {

    private final int nLayer;
    private final int nEmbd;
    private final int nHead;
    private final int nInner;
    private final int vocab;
    private final double eps;
    /** Mutable, so finite differences can nudge single weights. */
    public final Map<String, double[]> weights = new HashMap<>();

    public ReferenceGpt2(int nLayer, int nEmbd, int nHead, int nInner, int vocab, double eps,
            Map<String, float[]> floats) {
        this.nLayer = nLayer;
        this.nEmbd = nEmbd;
        this.nHead = nHead;
        this.nInner = nInner;
        this.vocab = vocab;
        this.eps = eps;
        floats.forEach((name, values) -> {
            double[] widened = new double[values.length];
            for (int i = 0; i < values.length; i++) {
                widened[i] = values[i];
            }
            weights.put(name, widened);
        });
    }

    /** Mean cross-entropy over every position of every row. */
    public double loss(int[][] inputs, int[][] targets) {
        double total = 0;
        int count = 0;
        for (int b = 0; b < inputs.length; b++) {
            double[][] logits = logits(inputs[b]);
            for (int t = 0; t < logits.length; t++) {
                double max = Double.NEGATIVE_INFINITY;
                for (double z : logits[t]) {
                    max = Math.max(max, z);
                }
                double sum = 0;
                for (double z : logits[t]) {
                    sum += Math.exp(z - max);
                }
                total += max + Math.log(sum) - logits[t][targets[b][t]];
                count++;
            }
        }
        return total / count;
    }

    /** Logits [T, V] of one sequence. */
    public double[][] logits(int[] tokens) {
        int time = tokens.length;
        double[] wte = weights.get("wte.weight");
        double[] wpe = weights.get("wpe.weight");
        double[][] x = new double[time][nEmbd];
        for (int t = 0; t < time; t++) {
            for (int c = 0; c < nEmbd; c++) {
                x[t][c] = wte[tokens[t] * nEmbd + c] + wpe[t * nEmbd + c];
            }
        }
        for (int layer = 0; layer < nLayer; layer++) {
            String h = "h." + layer + ".";
            double[][] attention = attention(layerNorm(x, h + "ln_1"), h + "attn.");
            add(x, attention);
            double[][] hidden = affine(layerNorm(x, h + "ln_2"), h + "mlp.c_fc", nEmbd, nInner);
            for (double[] row : hidden) {
                for (int i = 0; i < row.length; i++) {
                    double v = row[i];
                    row[i] = 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v)));
                }
            }
            add(x, affine(hidden, h + "mlp.c_proj", nInner, nEmbd));
        }
        double[][] out = layerNorm(x, "ln_f");
        double[][] logits = new double[time][vocab];
        for (int t = 0; t < time; t++) {
            for (int v = 0; v < vocab; v++) {
                double dot = 0;
                for (int c = 0; c < nEmbd; c++) {
                    dot += out[t][c] * wte[v * nEmbd + c];
                }
                logits[t][v] = dot;
            }
        }
        return logits;
    }

    private double[][] attention(double[][] x, String prefix) {
        int time = x.length;
        int headSize = nEmbd / nHead;
        double[][] qkv = affine(x, prefix + "c_attn", nEmbd, 3 * nEmbd);
        double[][] y = new double[time][nEmbd];
        for (int head = 0; head < nHead; head++) {
            int q0 = head * headSize;
            int k0 = nEmbd + head * headSize;
            int v0 = 2 * nEmbd + head * headSize;
            for (int t = 0; t < time; t++) {
                double[] scores = new double[t + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int s = 0; s <= t; s++) {
                    double dot = 0;
                    for (int d = 0; d < headSize; d++) {
                        dot += qkv[t][q0 + d] * qkv[s][k0 + d];
                    }
                    scores[s] = dot / Math.sqrt(headSize);
                    max = Math.max(max, scores[s]);
                }
                double sum = 0;
                for (int s = 0; s <= t; s++) {
                    scores[s] = Math.exp(scores[s] - max);
                    sum += scores[s];
                }
                for (int s = 0; s <= t; s++) {
                    for (int d = 0; d < headSize; d++) {
                        y[t][head * headSize + d] += scores[s] / sum * qkv[s][v0 + d];
                    }
                }
            }
        }
        return affine(y, prefix + "c_proj", nEmbd, nEmbd);
    }

    /** x W + b with W [in, out]. */
    private double[][] affine(double[][] x, String prefix, int in, int out) {
        double[] w = weights.get(prefix + ".weight");
        double[] b = weights.get(prefix + ".bias");
        double[][] y = new double[x.length][out];
        for (int t = 0; t < x.length; t++) {
            for (int j = 0; j < out; j++) {
                double sum = b[j];
                for (int i = 0; i < in; i++) {
                    sum += x[t][i] * w[i * out + j];
                }
                y[t][j] = sum;
            }
        }
        return y;
    }

    private double[][] layerNorm(double[][] x, String prefix) {
        double[] w = weights.get(prefix + ".weight");
        double[] b = weights.get(prefix + ".bias");
        double[][] y = new double[x.length][nEmbd];
        for (int t = 0; t < x.length; t++) {
            double mean = 0;
            for (double v : x[t]) {
                mean += v;
            }
            mean /= nEmbd;
            double variance = 0;
            for (double v : x[t]) {
                variance += (v - mean) * (v - mean);
            }
            variance /= nEmbd;
            for (int c = 0; c < nEmbd; c++) {
                y[t][c] = (x[t][c] - mean) / Math.sqrt(variance + eps) * w[c] + b[c];
            }
        }
        return y;
    }

    private static void add(double[][] x, double[][] delta) {
        for (int t = 0; t < x.length; t++) {
            for (int c = 0; c < x[t].length; c++) {
                x[t][c] += delta[t][c];
            }
        }
    }
}
