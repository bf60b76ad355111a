package dev.consort.dataset;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import dev.consort.web.ApiProblem;
import dev.consort.web.ApiProblem.FieldError;

/**
 * An upload's files and form fields, checked before any byte of the files is read: every bad field
 * is reported at once in one 422.
 *
 * @param valFraction null when the validation records come from {@code validationFile}
 * @param txtMode     null unless the format is txt
 */
record DatasetUpload(DatasetSource file, DatasetSource validationFile, String name, DatasetFormat format,
        RecordTemplate template, Double valFraction, TxtMode txtMode) {

    static final double DEFAULT_VAL_FRACTION = 0.1;
    static final int MAX_NAME_LENGTH = 200;

    /** Checks the raw form fields (null or blank means not given). */
    static DatasetUpload check(DatasetSource file, DatasetSource validationFile, String name, String format,
            String template, String valFraction, String txtMode) {
        List<FieldError> errors = new ArrayList<>();

        String checkedName = given(name).map(String::strip).orElse(file.fileName());
        if (given(name).isPresent() && checkedName.length() > MAX_NAME_LENGTH) {
            errors.add(new FieldError("name", "must be at most " + MAX_NAME_LENGTH + " characters, got "
                    + checkedName.length()));
        } else if (checkedName != null && checkedName.length() > MAX_NAME_LENGTH) {
            checkedName = checkedName.substring(0, MAX_NAME_LENGTH);
        }

        DatasetFormat checkedFormat = null;
        if (given(format).isPresent()) {
            checkedFormat = DatasetFormat.named(format).orElse(null);
            if (checkedFormat == null) {
                errors.add(new FieldError("format", "must be txt, jsonl or json, got \"" + format.strip() + "\""));
            }
        } else {
            checkedFormat = DatasetFormat.ofFileName(file.fileName()).orElse(null);
            if (checkedFormat == null) {
                errors.add(new FieldError("format", "cannot be inferred from the file name "
                        + (file.fileName() == null ? "(none was sent)" : "\"" + file.fileName() + "\"")
                        + "; name the file .txt, .jsonl or .json, or give format=txt, jsonl or json"));
            }
        }

        RecordTemplate checkedTemplate = null;
        try {
            checkedTemplate = RecordTemplate.parse(given(template).orElse(RecordTemplate.DEFAULT));
            if (checkedFormat == DatasetFormat.TXT
                    && checkedTemplate.wrappingOnly(RecordTemplate.TEXT_FIELD) == null) {
                errors.add(new FieldError("template", "a txt record has one field, {text}; the template must use "
                        + "it exactly once and no other field (such as {text} or Question: {text})"));
            }
        } catch (IllegalArgumentException e) {
            errors.add(new FieldError("template", e.getMessage()));
        }

        Double checkedFraction = null;
        if (given(valFraction).isPresent()) {
            if (validationFile != null) {
                errors.add(new FieldError("val_fraction", "cannot be combined with validation_file: the "
                        + "validation records come either from the file's last records or from their own file"));
            } else {
                checkedFraction = fraction(valFraction.strip(), errors);
            }
        } else if (validationFile == null) {
            checkedFraction = DEFAULT_VAL_FRACTION;
        }

        TxtMode checkedMode = null;
        if (given(txtMode).isPresent()) {
            checkedMode = TxtMode.named(txtMode).orElse(null);
            if (checkedMode == null) {
                errors.add(new FieldError("txt_mode", "must be records or whole, got \"" + txtMode.strip() + "\""));
            } else if (checkedFormat != null && checkedFormat != DatasetFormat.TXT) {
                errors.add(new FieldError("txt_mode", "applies only to txt files, not " + checkedFormat.wireName()));
            }
        } else if (checkedFormat == DatasetFormat.TXT) {
            checkedMode = TxtMode.RECORDS;
        }

        if (!errors.isEmpty()) {
            throw ApiProblem.invalid(errors);
        }
        return new DatasetUpload(file, validationFile, checkedName, checkedFormat, checkedTemplate,
                checkedFraction, checkedMode);
    }

    /** Bytes uploaded, both files together. */
    long sourceBytes() {
        return file.size() + (validationFile == null ? 0 : validationFile.size());
    }

    private static Double fraction(String value, List<FieldError> errors) {
        double fraction;
        try {
            fraction = new BigDecimal(value).doubleValue();
        } catch (NumberFormatException e) {
            errors.add(new FieldError("val_fraction", "must be a number in [0, 1), got \"" + value + "\""));
            return null;
        }
        if (!(fraction >= 0 && fraction < 1)) {
            errors.add(new FieldError("val_fraction", "must be at least 0 and below 1, got " + value));
            return null;
        }
        return fraction;
    }

    private static Optional<String> given(String value) {
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value);
    }
}
