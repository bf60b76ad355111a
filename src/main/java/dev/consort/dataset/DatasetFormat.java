package dev.consort.dataset;

import java.util.Locale;
import java.util.Optional;

import com.fasterxml.jackson.annotation.JsonValue;
import jakarta.persistence.AttributeConverter;
import jakarta.persistence.Converter;

/** How an uploaded file holds its records. */
public enum DatasetFormat {
    /** Plain text: blocks between blank lines, or the whole file (see {@link TxtMode}). */
    TXT("txt", "the file is empty or only whitespace"),
    /** One JSON object per line; blank lines are skipped. */
    JSONL("jsonl", "the file is empty or has only blank lines"),
    /** One JSON array of objects. */
    JSON("json", "the file is empty or an empty array []");

    private final String wireName;
    private final String whenEmpty;

    DatasetFormat(String wireName, String whenEmpty) {
        this.wireName = wireName;
        this.whenEmpty = whenEmpty;
    }

    @JsonValue
    public String wireName() {
        return wireName;
    }

    /** Why a file of this format yielded no record, for the 422. */
    String whenEmpty() {
        return whenEmpty;
    }

    static Optional<DatasetFormat> named(String name) {
        for (DatasetFormat format : values()) {
            if (format.wireName.equalsIgnoreCase(name.strip())) {
                return Optional.of(format);
            }
        }
        return Optional.empty();
    }

    /** The format a file name's extension implies ({@code .txt}, {@code .jsonl}, {@code .json}). */
    static Optional<DatasetFormat> ofFileName(String fileName) {
        if (fileName == null) {
            return Optional.empty();
        }
        String lower = fileName.toLowerCase(Locale.ROOT);
        for (DatasetFormat format : values()) {
            if (lower.endsWith("." + format.wireName)) {
                return Optional.of(format);
            }
        }
        return Optional.empty();
    }

    @Converter
    static class Column implements AttributeConverter<DatasetFormat, String> {
        @Override
        public String convertToDatabaseColumn(DatasetFormat format) {
            return format == null ? null : format.wireName;
        }

        @Override
        public DatasetFormat convertToEntityAttribute(String name) {
            return name == null ? null : named(name).orElseThrow(
                    () -> new IllegalStateException("unknown dataset format in the database: " + name));
        }
    }
}
