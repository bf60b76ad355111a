package dev.consort.storage;

import java.io.IOException;

/**
 * The service could not write to its own storage (disk full, directory gone or not writable, the S3
 * bucket refusing): the server's fault, not the request's. Answered as a 507 {@code storage-unavailable}
 * problem; whatever the request had started to store is rolled back.
 *
 * <p>Deliberately not an {@link java.io.UncheckedIOException}: code that unwraps those back into the
 * {@link IOException} they carry must not turn this into an anonymous I/O failure.
 */
public class StorageUnavailableException extends RuntimeException {

    public StorageUnavailableException(String message, IOException cause) {
        super(message + ": " + cause, cause);
    }
}
