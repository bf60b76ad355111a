package dev.consort.reproduction;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code --name value} command-line options, taken out as they are read, so that whatever is left at the end is an
 * option nobody reads: {@link #finish} rejects it.
 */
final class Arguments {

    private final Map<String, String> given = new LinkedHashMap<>();

    /** Parses {@code args}; {@code --help} prints {@code usage} and exits. */
    Arguments(String[] args, String usage) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--help") || args[i].equals("-h")) {
                System.out.println(usage);
                System.exit(0);
            }
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("expected --option value, got " + args[i] + "; see --help");
            }
            given.put(args[i].substring(2), args[++i]);
        }
    }

    String text(String name, String fallback) {
        String value = given.remove(name);
        return value != null ? value : fallback;
    }

    int integer(String name, int fallback) {
        return Integer.parseInt(text(name, Integer.toString(fallback)));
    }

    double number(String name, double fallback) {
        return Double.parseDouble(text(name, Double.toString(fallback)));
    }

    List<Double> numbers(String name, String fallback) {
        return List.of(text(name, fallback).split(",")).stream().map(Double::parseDouble).toList();
    }

    /** Fails on any option that was given but never read. */
    void finish() {
        if (!given.isEmpty()) {
            throw new IllegalArgumentException("unknown options " + given.keySet() + "; see --help");
        }
    }
}
