package dev.consort.dataset;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.springframework.http.HttpStatus;
import org.springframework.web.multipart.MultipartFile;

import dev.consort.web.ApiProblem;
import dev.consort.web.ProblemType;

/**
 * One uploaded file: the form part it came in, the name the client gave it, and a way to read it
 * again. It is read twice (once to check and count its records, once to tokenize them), always from
 * disk and as a stream.
 *
 * @param part     the form part, {@code file} or {@code validation_file}: problems name it
 * @param fileName the client's file name, without any directory; may be null
 */
record DatasetSource(String part, String fileName, long size, Opener opener) {

    @FunctionalInterface
    interface Opener {
        InputStream open() throws IOException;
    }

    static DatasetSource of(String part, MultipartFile file) {
        return new DatasetSource(part, baseName(file.getOriginalFilename()), file.getSize(), file::getInputStream);
    }

    static DatasetSource of(String part, Path file) throws IOException {
        return new DatasetSource(part, file.getFileName().toString(), Files.size(file), () -> Files.newInputStream(file));
    }

    /** The text of the file, which must be UTF-8 (see {@link StrictUtf8Reader}). */
    Reader openText() throws IOException {
        return new StrictUtf8Reader(opener.open());
    }

    /** A 422 about this file's content; {@code message} says where (line, record) and what. */
    ApiProblem invalid(String message) {
        return new ApiProblem(HttpStatus.UNPROCESSABLE_CONTENT, ProblemType.INVALID_DATASET, part + ": " + message,
                List.of(new ApiProblem.FieldError(part, message)));
    }

    /** Browsers and some clients send a path ({@code C:\fakepath\data.jsonl}); only the last name means anything. */
    private static String baseName(String name) {
        if (name == null || name.isBlank()) {
            return null;
        }
        int slash = Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\'));
        String base = name.substring(slash + 1).strip();
        return base.isEmpty() ? null : base;
    }
}
