package dev.consort.dataset;

import java.io.IOException;
import java.io.InputStream;
import java.util.UUID;

import org.springframework.stereotype.Service;

import dev.consort.engine.TokenSequence;
import dev.consort.storage.BlobStore;

/**
 * Read access to datasets' token files, for the HTTP download and for the engine: a split is a
 * stream of unsigned 16-bit little-endian GPT-2 token ids (see {@link TokenFile}).
 */
@Service
public class DatasetTokens {

    private final DatasetService datasets;
    private final BlobStore blobs;

    DatasetTokens(DatasetService datasets, BlobStore blobs) {
        this.datasets = datasets;
        this.blobs = blobs;
    }

    /**
     * A split's token file: its blob and token count.
     *
     * @throws dev.consort.web.ApiProblem 404 when there is no such dataset
     */
    public TokenFile describe(UUID datasetId, Split split) {
        return datasets.get(datasetId).tokens(split);
    }

    /**
     * The split held-out scores are taken on: validation, or train for a dataset without a validation split.
     *
     * @throws dev.consort.web.ApiProblem 404 when there is no such dataset
     */
    public Split heldOutSplit(UUID datasetId) {
        return describe(datasetId, Split.VALIDATION).isEmpty() ? Split.TRAIN : Split.VALIDATION;
    }

    /**
     * Opens a split's tokens for reading (empty for an empty split); the caller closes the stream.
     * Once open, the stream stays readable even if the dataset is deleted meanwhile.
     *
     * @throws dev.consort.web.ApiProblem 404 when there is no such dataset
     */
    public InputStream open(UUID datasetId, Split split) throws IOException {
        return open(describe(datasetId, split));
    }

    /** Opens a token file described earlier (by {@link #describe} or from a {@link Dataset}). */
    public InputStream open(TokenFile tokens) throws IOException {
        return tokens.isEmpty() ? InputStream.nullInputStream() : blobs.open(tokens.sha256());
    }

    /**
     * A split as an engine token sequence, memory-mapped from the blob; null for an empty split.
     *
     * @throws dev.consort.web.ApiProblem 404 when there is no such dataset
     */
    public TokenSequence sequence(UUID datasetId, Split split) throws IOException {
        TokenFile file = describe(datasetId, split);
        return file.isEmpty() ? null : TokenSequence.open(blobs.localCopy(file.sha256()));
    }

    /**
     * Reads a whole split as token ids; for small splits (evaluation sets, tests). Large training
     * splits should be streamed with {@link #open} or memory-mapped.
     */
    public int[] read(UUID datasetId, Split split) throws IOException {
        TokenFile file = describe(datasetId, split);
        if (file.tokens() > Integer.MAX_VALUE - 8) {
            throw new IllegalStateException("split has " + file.tokens() + " tokens, too many for one array");
        }
        int[] tokens = new int[(int) file.tokens()];
        try (InputStream in = open(file)) {
            byte[] buffer = new byte[1 << 16];
            int count = 0;
            int carry = -1;
            int n;
            while ((n = in.read(buffer)) >= 0) {
                for (int i = 0; i < n; i++) {
                    int b = buffer[i] & 0xFF;
                    if (carry < 0) {
                        carry = b;
                    } else {
                        if (count == tokens.length) {
                            throw new IOException("token file " + file.sha256() + " is longer than "
                                    + file.tokens() + " tokens");
                        }
                        tokens[count++] = carry | (b << 8);
                        carry = -1;
                    }
                }
            }
            if (count != tokens.length || carry >= 0) {
                throw new IOException("token file " + file.sha256() + " has " + count + " tokens, expected "
                        + file.tokens());
            }
        }
        return tokens;
    }
}
