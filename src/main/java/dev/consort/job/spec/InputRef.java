package dev.consort.job.spec;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * A reference from a job spec to something stored: {@code field} is where it appears in the spec
 * (used in error messages), {@code kind} what it must be.
 */
public record InputRef(String field, Kind kind, UUID id) {

    public enum Kind {
        CHECKPOINT("checkpoint"), DATASET("dataset"), JOB("job"), ROUTED_MODEL("routed_model");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        public String label() {
            return label.replace('_', ' ');
        }

        /** The table holding things of this kind (its name is also the label). */
        public String table() {
            return label;
        }

        /** How {@code job_input.input_kind} names it. */
        public String column() {
            return label;
        }
    }

    /** Collects refs, skipping absent (null) ones: Bean Validation reports missing required fields. */
    public static final class Collector {
        private final List<InputRef> refs = new ArrayList<>();

        public Collector add(String field, Kind kind, UUID id) {
            if (id != null) {
                refs.add(new InputRef(field, kind, id));
            }
            return this;
        }

        public Collector addAll(String field, Kind kind, List<UUID> ids) {
            if (ids != null) {
                for (int i = 0; i < ids.size(); i++) {
                    add(field + "[" + i + "]", kind, ids.get(i));
                }
            }
            return this;
        }

        public List<InputRef> build() {
            return List.copyOf(refs);
        }
    }
}
