package dev.consort.engine;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from a position's logits: the argmax at temperature 0 (greedy decoding), otherwise a
 * draw from softmax(logits / temperature) restricted to the {@code topK} most likely tokens and then to the
 * smallest set whose probability reaches {@code topP} (nucleus sampling), with a generator seeded per sequence so
 * that a seed reproduces the text. Works on the host copy of one position's logits.
 */
public final class TokenSampler {

    private final double temperature;
    private final int topK;
    private final double topP;
    private final SplittableRandom random;

    /**
     * @param temperature 0 for greedy decoding, else the softmax temperature
     * @param topK        keep the k most likely tokens; 0 keeps all
     * @param topP        keep the most likely tokens up to this total probability, in (0, 1]
     */
    public TokenSampler(double temperature, int topK, double topP, long seed) {
        this.temperature = temperature;
        this.topK = topK;
        this.topP = topP;
        this.random = new SplittableRandom(seed);
    }

    public int next(float[] logits) {
        if (temperature == 0) {
            return argmax(logits);
        }
        int[] order = topK > 0 || topP < 1 ? mostLikelyFirst(logits) : identity(logits.length);
        int kept = topK > 0 ? Math.min(topK, order.length) : order.length;
        double max = logits[argmax(logits)] / temperature;
        double[] weights = new double[kept];
        double total = 0;
        for (int i = 0; i < kept; i++) {
            weights[i] = Math.exp(logits[order[i]] / temperature - max);
            total += weights[i];
        }
        if (topP < 1) {
            double cumulative = 0;
            int nucleus = 0;
            while (nucleus < kept && cumulative < topP * total) {
                cumulative += weights[nucleus++];
            }
            kept = Math.max(1, nucleus);
            total = cumulative;
        }
        double draw = random.nextDouble() * total;
        for (int i = 0; i < kept; i++) {
            draw -= weights[i];
            if (draw < 0) {
                return order[i];
            }
        }
        return order[kept - 1];
    }

    /** Token ids by falling logit, ties by id, so a draw never depends on a sort's stability. */
    private static int[] mostLikelyFirst(float[] logits) {
        // One primitive sort of (order-preserving bits of −logit, id) pairs packed in longs, not of boxed ids.
        long[] keys = new long[logits.length];
        for (int i = 0; i < logits.length; i++) {
            int bits = Float.floatToIntBits(-logits[i]);
            bits ^= (bits >> 31) & 0x7fffffff;
            keys[i] = ((long) bits << 32) | i;
        }
        Arrays.sort(keys);
        int[] order = new int[keys.length];
        for (int i = 0; i < keys.length; i++) {
            order[i] = (int) keys[i];
        }
        return order;
    }

    private static int[] identity(int size) {
        int[] order = new int[size];
        for (int i = 0; i < size; i++) {
            order[i] = i;
        }
        return order;
    }

    /** The index of the largest logit, the first one on ties (as torch.argmax). */
    public static int argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
