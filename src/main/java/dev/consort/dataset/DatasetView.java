package dev.consort.dataset;

import java.time.Instant;
import java.util.UUID;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.swagger.v3.oas.annotations.media.Schema;

/** A dataset as the API shows it. Fields that can be null are always present, so clients see one shape. */
@JsonInclude(JsonInclude.Include.ALWAYS)
@Schema(name = "Dataset")
public record DatasetView(
        UUID id,
        @Schema(description = "The name given at upload, or the uploaded file's name")
        String name,
        @JsonProperty("created_at") Instant createdAt,
        DatasetFormat format,
        @Schema(description = "The template that built each record's text, as given")
        String template,
        @Schema(description = "Fraction of the file's records (the last ones) held out for validation; "
                + "null when the validation records came from validation_file")
        @JsonProperty("val_fraction") Double valFraction,
        @Schema(description = "How a txt file was split into records; null for JSON formats")
        @JsonProperty("txt_mode") TxtMode txtMode,
        @JsonProperty("file_name") String fileName,
        @JsonProperty("validation_file_name") String validationFileName,
        SplitView train,
        SplitView validation,
        @Schema(description = "Bytes uploaded: file plus validation_file")
        @JsonProperty("source_bytes") long sourceBytes) {

    /** One split's records and its token file (GET /datasets/{id}/tokens/{split}). */
    @JsonInclude(JsonInclude.Include.ALWAYS)
    @Schema(name = "DatasetSplit")
    public record SplitView(
            long records,
            @Schema(description = "Tokens, each record's followed by <|endoftext|> (50256)")
            long tokens,
            @Schema(description = "sha256 of the uint16 little-endian token file; null when the split is empty")
            String sha256) {
    }

    static DatasetView of(Dataset dataset) {
        return new DatasetView(dataset.getId(), dataset.getName(), dataset.getCreatedAt(), dataset.getFormat(),
                dataset.getTemplate(), dataset.getValFraction(), dataset.getTxtMode(), dataset.getFileName(),
                dataset.getValidationFileName(), split(dataset, Split.TRAIN), split(dataset, Split.VALIDATION),
                dataset.getSourceBytes());
    }

    private static SplitView split(Dataset dataset, Split split) {
        TokenFile tokens = dataset.tokens(split);
        return new SplitView(dataset.records(split), tokens.tokens(), tokens.sha256());
    }
}
