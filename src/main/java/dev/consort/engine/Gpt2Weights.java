package dev.consort.engine;

import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import dev.consort.safetensors.DType;
import dev.consort.safetensors.TensorInfo;

/**
 * The checked parameter tensors of a GPT-2 checkpoint, by bare HF name in layout order,
 * {@code lm_head.weight} last when stored. Each {@link TensorInfo} keeps the name as stored (possibly
 * {@code transformer.}-prefixed) and its byte range, so a reader can find the bytes.
 */
public record Gpt2Weights(Map<String, TensorInfo> tensors) {

    public Gpt2Weights {
        tensors = Collections.unmodifiableMap(new LinkedHashMap<>(tensors));
    }

    /** Whether the output projection is stored rather than tied to {@code wte.weight}. */
    public boolean hasLmHead() {
        return tensors.containsKey(Gpt2TensorLayout.LM_HEAD);
    }

    /** Elements of every stored parameter tensor (buffers excluded, lm_head included when stored). */
    public long parameterCount() {
        long count = 0;
        for (TensorInfo tensor : tensors.values()) {
            count = Math.addExact(count, tensor.elementCount());
        }
        return count;
    }

    /** The dtypes the parameters are stored in. */
    public Set<DType> dtypes() {
        Set<DType> dtypes = EnumSet.noneOf(DType.class);
        tensors.values().forEach(t -> dtypes.add(t.dtype()));
        return dtypes;
    }
}
