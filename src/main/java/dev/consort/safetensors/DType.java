package dev.consort.safetensors;

import java.util.Optional;

/**
 * The element types a safetensors header may name, with their size in bytes. Sub-byte types
 * (F4, F6_*) are left out: no GPT-2 checkpoint uses them and their byte length is not elements × size.
 */
public enum DType {
    BOOL(1),
    U8(1),
    I8(1),
    F8_E5M2(1),
    F8_E4M3(1),
    I16(2),
    U16(2),
    F16(2),
    BF16(2),
    I32(4),
    U32(4),
    F32(4),
    I64(8),
    U64(8),
    F64(8);

    private final int size;

    DType(int size) {
        this.size = size;
    }

    /** Bytes per element. */
    public int size() {
        return size;
    }

    /** The dtype a header spells {@code name} (case-sensitive, as the format defines it), if any. */
    public static Optional<DType> byName(String name) {
        for (DType type : values()) {
            if (type.name().equals(name)) {
                return Optional.of(type);
            }
        }
        return Optional.empty();
    }
}
