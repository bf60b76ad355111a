package dev.consort.dataset;

import java.util.Optional;

import com.fasterxml.jackson.annotation.JsonValue;

/** The two token files of a dataset. */
public enum Split {
    TRAIN("train", "train_tokens"),
    VALIDATION("validation", "val_tokens");

    private final String wireName;
    private final String blobRole;

    Split(String wireName, String blobRole) {
        this.wireName = wireName;
        this.blobRole = blobRole;
    }

    @JsonValue
    public String wireName() {
        return wireName;
    }

    /** The role under which the dataset references this split's blob ({@code blob_ref.role}). */
    String blobRole() {
        return blobRole;
    }

    public static Optional<Split> named(String name) {
        for (Split split : values()) {
            if (split.wireName.equals(name)) {
                return Optional.of(split);
            }
        }
        return Optional.empty();
    }
}
