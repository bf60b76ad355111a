package dev.consort.checkpoint;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Optional;

import org.springframework.http.HttpStatus;

import dev.consort.engine.Gpt2Config;
import dev.consort.engine.Gpt2FormatException;
import dev.consort.engine.Gpt2TensorLayout;
import dev.consort.engine.Gpt2Weights;
import dev.consort.safetensors.DType;
import dev.consort.safetensors.NonFiniteValue;
import dev.consort.safetensors.SafetensorsFormatException;
import dev.consort.safetensors.SafetensorsHeader;
import dev.consort.web.ApiProblem;
import dev.consort.web.ProblemType;

/**
 * Decides whether a config.json and a model.safetensors make a checkpoint Consort can use, before
 * anything is stored: a strict safetensors header, every tensor's name, shape and dtype against the
 * config, and no NaN or infinite weight. Rejections are 422 problems naming the field or tensor.
 */
final class CheckpointValidator {

    /** config.json is a few hundred bytes; anything this large is not one. */
    static final int MAX_CONFIG_BYTES = 1 << 20;
    /** The most problems one response lists (a config that disagrees with the weights names every tensor). */
    static final int MAX_REPORTED = 100;

    private CheckpointValidator() {}

    /** A config.json that parsed as GPT-2, with its exact text (stored so the download is byte-identical). */
    record ValidConfig(Gpt2Config config, String json) {}

    /** A checkpoint that passed every check. */
    record ValidCheckpoint(ValidConfig config, Gpt2Weights weights) {

        /** The weights' dtype name, or {@code mixed} when tensors differ. */
        String dtype() {
            List<DType> dtypes = List.copyOf(weights.dtypes());
            return dtypes.size() == 1 ? dtypes.get(0).name() : "mixed";
        }
    }

    static ValidConfig config(byte[] json) {
        if (json.length > MAX_CONFIG_BYTES) {
            throw invalid("config.json", "is larger than " + MAX_CONFIG_BYTES + " bytes; not a GPT-2 config.json");
        }
        try {
            return new ValidConfig(Gpt2Config.parse(json), new String(json, StandardCharsets.UTF_8));
        } catch (Gpt2FormatException e) {
            throw invalid(e.violations());
        }
    }

    static ValidCheckpoint weights(ValidConfig config, Path weights) throws IOException {
        try (FileChannel channel = FileChannel.open(weights, StandardOpenOption.READ)) {
            SafetensorsHeader header = SafetensorsHeader.read(channel, channel.size());
            Gpt2Weights checked = Gpt2TensorLayout.check(config.config(), header.tensors());
            Optional<NonFiniteValue> bad = NonFiniteValue.findFirst(channel, header, checked.tensors().values());
            if (bad.isPresent()) {
                throw invalid(bad.get().tensor(), "element " + bad.get().index() + " is " + bad.get().describe()
                        + "; checkpoints with NaN or infinite weights are rejected");
            }
            return new ValidCheckpoint(config, checked);
        } catch (SafetensorsFormatException e) {
            throw invalid(e.subject(), e.reason());
        } catch (Gpt2FormatException e) {
            throw invalid(e.violations());
        }
    }

    private static ApiProblem invalid(String subject, String message) {
        return invalid(List.of(new Gpt2FormatException.Violation(subject, message)));
    }

    private static ApiProblem invalid(List<Gpt2FormatException.Violation> violations) {
        List<ApiProblem.FieldError> errors = violations.stream()
                .limit(MAX_REPORTED)
                .map(v -> new ApiProblem.FieldError(v.subject(), v.message()))
                .toList();
        String detail = violations.get(0).toString();
        if (violations.size() > 1) {
            detail += " (and " + (violations.size() - 1) + " more problems; see errors)";
        }
        return new ApiProblem(HttpStatus.UNPROCESSABLE_CONTENT, ProblemType.INVALID_CHECKPOINT, detail, errors);
    }
}
