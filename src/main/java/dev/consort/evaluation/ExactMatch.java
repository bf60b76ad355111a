package dev.consort.evaluation;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;

import com.fasterxml.jackson.annotation.JsonProperty;

import dev.consort.dataset.Gpt2Tokenizer;
import dev.consort.engine.Generator;
import dev.consort.engine.Gpt2Model;
import dev.consort.engine.TokenSampler;
import dev.consort.engine.TokenSequence;
import dev.consort.web.ApiProblem.FieldError;

/**
 * Task accuracy: for each record of a dataset, the model greedy-generates after the record's prompt part, and its
 * final answer is compared with the record's. A record's prompt is its text up to and including the first
 * {@code prompt_end}; its answer is what follows the last {@code answer_marker} (GSM8K's {@code ####}), up to the end
 * of that line, or with no marker the first line after the prompt. The generated answer is read the same way from the
 * generated text (after its first marker), and both are normalised (trimmed, lower case, without commas, dollar signs
 * or a final period). The accuracy comes with a 95% Wilson interval.
 */
public final class ExactMatch {

    /** 95% two-sided normal quantile. */
    private static final double Z = 1.959963984540054;

    /**
     * @param promptEnd    the text that ends a record's prompt (its first occurrence; included in the prompt)
     * @param answerMarker what precedes the final answer, in records and generations; empty: the first line
     * @param maxRecords   records scored, the first ones of the split that have a prompt and an answer
     * @param maxTokens    tokens generated per record at most
     */
    public record Settings(@JsonProperty("prompt_end") String promptEnd, @JsonProperty("answer_marker") String answerMarker,
            @JsonProperty("max_records") int maxRecords, @JsonProperty("max_tokens") int maxTokens) {}

    /** {@code correct} of {@code n} scored; {@code skipped}: records without a prompt or answer, or too long. */
    record Score(int correct, int n, int skipped) {
        /**
         * The same records answered by each run of a model made several times (router seeds), pooled: every run's
         * answers count as trials, so the interval is that of the pooled answers, not of a single run.
         */
        static Score pooled(List<Score> runs) {
            return new Score(runs.stream().mapToInt(Score::correct).sum(), runs.stream().mapToInt(Score::n).sum(),
                    runs.stream().mapToInt(Score::skipped).sum());
        }

        Map<String, Object> toMap() {
            Map<String, Object> map = new LinkedHashMap<>();
            map.put("correct", correct);
            map.put("n", n);
            map.put("accuracy", n == 0 ? null : (double) correct / n);
            double[] interval = wilson(correct, n);
            map.put("ci95_low", interval == null ? null : interval[0]);
            map.put("ci95_high", interval == null ? null : interval[1]);
            map.put("skipped", skipped);
            return map;
        }
    }

    private ExactMatch() {}

    /**
     * The settings a request asks for ({@code metrics} and {@code exact_match}, named with {@code prefix}), with their
     * defaults; null when exact_match is not asked for. Problems are added to {@code errors}.
     */
    public static Settings plan(List<String> metrics, ExactMatchSpec asked, String prefix, List<FieldError> errors) {
        // An empty list, as generated clients send for an unset array, is the default too.
        List<String> measured = metrics == null || metrics.isEmpty() ? List.of("loss") : metrics;
        if (!measured.contains("loss")) {
            errors.add(new FieldError(prefix + "metrics", "must include loss: every row of the table is a loss"));
        }
        boolean exactMatch = measured.contains("exact_match");
        if (asked != null && !exactMatch) {
            errors.add(new FieldError(prefix + "exact_match", "is set, but metrics does not ask for exact_match"));
        }
        if (!exactMatch) {
            return null;
        }
        ExactMatchSpec given = asked != null ? asked : new ExactMatchSpec(null, null, null, null);
        return new Settings(given.promptEnd() != null ? given.promptEnd() : "\n",
                given.answerMarker() != null ? given.answerMarker() : "####",
                given.maxRecords() != null ? given.maxRecords() : 50, given.maxTokens() != null ? given.maxTokens() : 128);
    }

    /**
     * Scores {@code scored} on the records of {@code tokens} (separated by end-of-text tokens), generating through its
     * forward pass: a routed model's answers come from its mixture of experts.
     */
    static Score score(EvaluationTable.ScoredModel scored, TokenSequence tokens, Settings settings,
            Gpt2Tokenizer tokenizer, Runnable checkCancelled) {
        Gpt2Model model = scored.shared();
        int vocabulary = Math.min(model.config().vocabSize(), Gpt2Tokenizer.VOCAB_SIZE);
        int eos = vocabulary > Gpt2Tokenizer.END_OF_TEXT ? Gpt2Tokenizer.END_OF_TEXT : -1;
        int[] counts = new int[3];                                                   // correct, n, skipped
        forEachRecord(tokens, tokenizer, record -> {
            int end = record.indexOf(settings.promptEnd());
            String reference = end < 0 ? null : answer(record.substring(end + settings.promptEnd().length()),
                    settings.answerMarker(), true);
            int[] prompt = end < 0 ? null : tokenizer.encode(record.substring(0, end + settings.promptEnd().length()));
            int room = prompt == null ? 0 : Math.min(settings.maxTokens(), model.config().nPositions() - prompt.length);
            if (reference == null || reference.isEmpty() || room < 1 || Arrays.stream(prompt).anyMatch(t -> t >= vocabulary)) {
                counts[2]++;
                return true;
            }
            checkCancelled.run();
            List<Integer> made = new ArrayList<>();
            Generator.Generated generated = Generator.generate(model, scored.passes(), prompt, room, new TokenSampler(0, 0, 1, 0),
                    vocabulary, eos, token -> {
                        made.add(token);
                        return !answerComplete(decode(made, tokenizer), settings.answerMarker());
                    });
            String answer = answer(tokenizer.decode(generated.tokens()), settings.answerMarker(), false);
            counts[1]++;
            if (answer != null && normalise(answer).equals(normalise(reference))) {
                counts[0]++;
            }
            return counts[1] < settings.maxRecords();
        });
        return new Score(counts[0], counts[1], counts[2]);
    }

    /**
     * Hands each record's text (the token runs between end-of-text tokens) to {@code record} in order, until it
     * answers false: a split of thousands of records is decoded only as far as the records scored.
     */
    private static void forEachRecord(TokenSequence tokens, Gpt2Tokenizer tokenizer, Predicate<String> record) {
        List<Integer> current = new ArrayList<>();
        for (long i = 0; i <= tokens.length(); i++) {
            int token = i < tokens.length() ? tokens.get(i) : Gpt2Tokenizer.END_OF_TEXT;
            if (token != Gpt2Tokenizer.END_OF_TEXT) {
                current.add(token);
            } else if (!current.isEmpty()) {
                if (!record.test(decode(current, tokenizer))) {
                    return;
                }
                current.clear();
            }
        }
    }

    private static String decode(List<Integer> tokens, Gpt2Tokenizer tokenizer) {
        return tokenizer.decode(tokens.stream().mapToInt(Integer::intValue).toArray());
    }

    /** Whether a generation already holds its whole answer: the marker's line (or the first line) has ended. */
    private static boolean answerComplete(String generated, String marker) {
        int from = marker.isEmpty() ? 0 : generated.indexOf(marker);
        return from >= 0 && generated.indexOf('\n', from + marker.length()) >= 0;
    }

    /**
     * The answer in {@code text}: after the marker (the last one in a record, the first in a generation) to the end of
     * its line, or with no marker the first line; null when the marker is missing.
     */
    static String answer(String text, String marker, boolean last) {
        int start = 0;
        if (!marker.isEmpty()) {
            int at = last ? text.lastIndexOf(marker) : text.indexOf(marker);
            if (at < 0) {
                return null;
            }
            start = at + marker.length();
        }
        int end = text.indexOf('\n', start);
        return text.substring(start, end < 0 ? text.length() : end).trim();
    }

    static String normalise(String answer) {
        String plain = answer.trim().toLowerCase(Locale.ROOT).replace(",", "").replace("$", "");
        return plain.endsWith(".") ? plain.substring(0, plain.length() - 1).trim() : plain;
    }

    /** The 95% Wilson score interval of {@code k} successes in {@code n} trials; null when n is 0. */
    static double[] wilson(int k, int n) {
        if (n == 0) {
            return null;
        }
        double p = (double) k / n;
        double denominator = 1 + Z * Z / n;
        double centre = (p + Z * Z / (2.0 * n)) / denominator;
        double half = Z * Math.sqrt(p * (1 - p) / n + Z * Z / (4.0 * n * n)) / denominator;
        return new double[] {Math.max(0, centre - half), Math.min(1, centre + half)};
    }
}
