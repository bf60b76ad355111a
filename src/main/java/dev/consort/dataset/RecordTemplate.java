package dev.consort.dataset;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Builds a record's text from its fields: {@code {question}\n{answer}}. {@code {name}} is a top-level
 * field of the record, {@code {{} and {@code }}} are literal braces, and the escapes {@code \n},
 * {@code \t} and {@code \\} are interpreted because that is what users type in a curl form field;
 * any other backslash is kept as written.
 */
final class RecordTemplate {

    static final String DEFAULT = "{text}";
    static final int MAX_LENGTH = 4000;
    /**
     * The longest text one record may render to, in characters (64 Mi): without it a template that repeats a field
     * ({@code {f}{f}…} within its 4,000 characters) over a long field would build a string of many gigabytes on the
     * request thread before a single token was counted.
     */
    static final long MAX_RENDERED_LENGTH = 1L << 26;
    /** The one field a text file's records have. */
    static final String TEXT_FIELD = "text";

    private sealed interface Part permits Literal, Field {}

    private record Literal(String text) implements Part {}

    private record Field(String name) implements Part {}

    /** The literal text around a template's single field: how a streamed record is wrapped. */
    record Wrapping(String prefix, String suffix) {}

    private final String source;
    private final List<Part> parts;
    private final Set<String> fields;

    private RecordTemplate(String source, List<Part> parts) {
        this.source = source;
        this.parts = List.copyOf(parts);
        Set<String> names = new LinkedHashSet<>();
        for (Part part : parts) {
            if (part instanceof Field field) {
                names.add(field.name());
            }
        }
        this.fields = Collections.unmodifiableSet(names);
    }

    /** @throws IllegalArgumentException saying what is wrong with the template, for a 422 */
    static RecordTemplate parse(String source) {
        if (source.length() > MAX_LENGTH) {
            throw new IllegalArgumentException("must be at most " + MAX_LENGTH + " characters");
        }
        List<Part> parts = new ArrayList<>();
        StringBuilder literal = new StringBuilder();
        int i = 0;
        while (i < source.length()) {
            char c = source.charAt(i);
            char next = i + 1 < source.length() ? source.charAt(i + 1) : 0;
            if (c == '\\' && (next == 'n' || next == 't' || next == '\\')) {
                literal.append(next == 'n' ? '\n' : next == 't' ? '\t' : '\\');
                i += 2;
            } else if (c == '{' && next == '{') {
                literal.append('{');
                i += 2;
            } else if (c == '}' && next == '}') {
                literal.append('}');
                i += 2;
            } else if (c == '{') {
                int close = source.indexOf('}', i + 1);
                int open = source.indexOf('{', i + 1);
                if (close < 0 || (open >= 0 && open < close)) {
                    throw new IllegalArgumentException("the { at position " + i
                            + " is not closed by }; write {{ for a literal brace");
                }
                String name = source.substring(i + 1, close);
                if (name.isBlank()) {
                    throw new IllegalArgumentException("the placeholder at position " + i
                            + " names no field; write {field_name}");
                }
                if (!literal.isEmpty()) {
                    parts.add(new Literal(literal.toString()));
                    literal.setLength(0);
                }
                parts.add(new Field(name));
                i = close + 1;
            } else if (c == '}') {
                throw new IllegalArgumentException("the } at position " + i
                        + " closes no placeholder; write }} for a literal brace");
            } else {
                literal.append(c);
                i++;
            }
        }
        if (!literal.isEmpty()) {
            parts.add(new Literal(literal.toString()));
        }
        RecordTemplate template = new RecordTemplate(source, parts);
        if (template.fields.isEmpty()) {
            throw new IllegalArgumentException("uses no field; name at least one, such as {text}");
        }
        return template;
    }

    /** The template as the user wrote it. */
    String source() {
        return source;
    }

    /** The fields the template reads, in order of first use. */
    Set<String> fields() {
        return fields;
    }

    /**
     * The literal text before and after {@code field} when the template uses that field exactly once
     * and no other; null otherwise.
     */
    Wrapping wrappingOnly(String field) {
        int uses = 0;
        StringBuilder prefix = new StringBuilder();
        StringBuilder suffix = new StringBuilder();
        for (Part part : parts) {
            if (part instanceof Field f) {
                if (!f.name().equals(field)) {
                    return null;
                }
                uses++;
            } else if (part instanceof Literal literal) {
                (uses == 0 ? prefix : suffix).append(literal.text());
            }
        }
        return uses == 1 ? new Wrapping(prefix.toString(), suffix.toString()) : null;
    }

    /** The first field of the template that {@code values} lacks or holds as null (a JSON null). */
    String firstMissing(Map<String, String> values) {
        for (String field : fields) {
            if (values.get(field) == null) {
                return field;
            }
        }
        return null;
    }

    /** How long the record's text will be, counted before it is built; every field must be present. */
    long renderedLength(Map<String, String> values) {
        long length = 0;
        for (Part part : parts) {
            length += part instanceof Literal literal ? literal.text().length()
                    : values.get(((Field) part).name()).length();
        }
        return length;
    }

    /**
     * Sends the record's text to {@code sink} part by part (each literal, each field's value), never building it
     * whole: a template that repeats a long field costs the field once, not once per use. Every field must be
     * present (see {@link #firstMissing}).
     */
    void renderTo(Map<String, String> values, RecordSink sink) throws IOException {
        for (Part part : parts) {
            sink.text(part instanceof Literal literal ? literal.text() : values.get(((Field) part).name()));
        }
    }
}
