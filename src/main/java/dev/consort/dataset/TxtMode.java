package dev.consort.dataset;

import java.util.Optional;

import com.fasterxml.jackson.annotation.JsonValue;
import jakarta.persistence.AttributeConverter;
import jakarta.persistence.Converter;

/** How a {@code .txt} file splits into records. */
public enum TxtMode {
    /** Each block of text between blank lines is a record (stripped; empty blocks dropped). */
    RECORDS("records"),
    /** The whole file (stripped) is one record. */
    WHOLE("whole");

    private final String wireName;

    TxtMode(String wireName) {
        this.wireName = wireName;
    }

    @JsonValue
    public String wireName() {
        return wireName;
    }

    static Optional<TxtMode> named(String name) {
        for (TxtMode mode : values()) {
            if (mode.wireName.equalsIgnoreCase(name.strip())) {
                return Optional.of(mode);
            }
        }
        return Optional.empty();
    }

    @Converter
    static class Column implements AttributeConverter<TxtMode, String> {
        @Override
        public String convertToDatabaseColumn(TxtMode mode) {
            return mode == null ? null : mode.wireName;
        }

        @Override
        public TxtMode convertToEntityAttribute(String name) {
            return name == null ? null : named(name).orElseThrow(
                    () -> new IllegalStateException("unknown txt mode in the database: " + name));
        }
    }
}
