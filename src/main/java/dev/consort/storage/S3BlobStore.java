package dev.consort.storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * Blobs as objects {@code <prefix>sha256/ab/abcdef...} in an S3-compatible bucket, for clusters where
 * many pods share them. Uploads are staged (and hashed) on local disk like the filesystem store's, then
 * uploaded whole or, from {@code multipart-threshold} on, in parts. An object appears complete or not
 * at all, so publishing stays atomic. Readers that memory-map get a local copy, downloaded once into a
 * cache under the data directory (checked against its sha256) and evicted least-recently-used.
 */
public class S3BlobStore implements BlobStore, AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(S3BlobStore.class);
    private static final String OCTETS = "application/octet-stream";
    /** S3 allows at most 10,000 parts: larger blobs get larger parts. */
    private static final int MAX_PARTS = 10_000;
    /** User metadata ({@code x-amz-meta-sha256}) naming the bytes an object was uploaded with. */
    private static final String SHA256_METADATA = "sha256";

    private final S3Client s3;
    private final String bucket;
    private final String prefix;
    private final long multipartThreshold;
    private final long partSize;
    private final long cacheMaxBytes;
    private final BlobStaging staging;
    private final Path cache;

    public S3BlobStore(S3Client s3, BlobStoreProperties.S3 settings, Path root) throws IOException {
        this.s3 = s3;
        this.bucket = settings.bucket();
        String prefix = settings.prefix() == null ? "" : settings.prefix().strip();
        this.prefix = prefix.isEmpty() || prefix.endsWith("/") ? prefix : prefix + "/";
        this.multipartThreshold = settings.multipartThreshold().toBytes();
        this.partSize = settings.partSize().toBytes();
        this.cacheMaxBytes = settings.cacheMaxSize().toBytes();
        if (partSize < 5L << 20) {
            throw new IllegalArgumentException("consort.blobs.s3.part-size must be at least 5MB (S3's smallest part)");
        }
        this.staging = new BlobStaging(root.resolve("staging"), DiskSync.SYSTEM);
        this.cache = root.resolve("cache").toAbsolutePath();
        Files.createDirectories(cache);
        try {
            s3.headBucket(b -> b.bucket(bucket));
        } catch (SdkException e) {
            throw new IllegalStateException("S3 bucket '" + bucket + "' is not reachable: " + e.getMessage(), e);
        }
        log.info("Blobs in S3 bucket {} under '{}', staged and cached in {}", bucket, this.prefix, root.toAbsolutePath());
    }

    @Override
    public StagedBlob stage(InputStream in) throws IOException {
        return staging.stage(in);
    }

    /**
     * Uploads the staged blob unless an intact copy is already there. S3 offers no cheap re-hash, so an
     * existing object is trusted only if its size, and the sha256 recorded in its metadata when it has one,
     * match; otherwise it is overwritten, which S3 does atomically.
     */
    @Override
    public void publish(StagedBlob staged) throws IOException {
        String key = key(staged.sha256());
        try {
            if (!intactCopyExists(key, staged)) {
                Map<String, String> metadata = Map.of(SHA256_METADATA, staged.sha256());
                if (staged.size() < multipartThreshold) {
                    s3.putObject(b -> b.bucket(bucket).key(key).contentLength(staged.size()).contentType(OCTETS)
                                    .metadata(metadata),
                            RequestBody.fromFile(staged.file()));
                } else {
                    uploadInParts(staged, key, metadata);
                }
            }
        } catch (SdkException e) {
            throw new IOException("could not upload blob " + staged.sha256() + " to S3: " + e.getMessage(), e);
        }
        Files.deleteIfExists(staged.file());
    }

    private boolean intactCopyExists(String key, StagedBlob staged) {
        HeadObjectResponse head = head(key).orElse(null);
        if (head == null) {
            return false;
        }
        String recorded = head.metadata().get(SHA256_METADATA);
        if (head.contentLength() != staged.size() || (recorded != null && !recorded.equals(staged.sha256()))) {
            log.warn("Object {} has {} bytes (sha256 {}), not the {} bytes of its name; uploading it again",
                    key, head.contentLength(), recorded, staged.size());
            return false;
        }
        return true;
    }

    private void uploadInParts(StagedBlob staged, String key, Map<String, String> metadata) {
        long size = staged.size();
        long part = Math.max(partSize, (size + MAX_PARTS - 1) / MAX_PARTS);
        String uploadId = s3.createMultipartUpload(b -> b.bucket(bucket).key(key).contentType(OCTETS)
                .metadata(metadata)).uploadId();
        try {
            List<CompletedPart> parts = new ArrayList<>();
            for (long offset = 0; offset < size; offset += part) {
                long start = offset;
                long length = Math.min(part, size - offset);
                int number = parts.size() + 1;
                // A fresh stream per attempt, so the SDK can retry a part without buffering it.
                String etag = s3.uploadPart(b -> b.bucket(bucket).key(key).uploadId(uploadId).partNumber(number)
                                .contentLength(length),
                        RequestBody.fromContentProvider(() -> slice(staged.file(), start, length), length, OCTETS))
                        .eTag();
                parts.add(CompletedPart.builder().partNumber(number).eTag(etag).build());
            }
            s3.completeMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId)
                    .multipartUpload(m -> m.parts(parts)));
        } catch (RuntimeException e) {
            try {
                s3.abortMultipartUpload(b -> b.bucket(bucket).key(key).uploadId(uploadId));
            } catch (RuntimeException abortFailed) {
                e.addSuppressed(abortFailed);
            }
            throw e;
        }
    }

    @Override
    public InputStream open(String sha256) throws IOException {
        String key = key(sha256);
        try {
            return s3.getObject(b -> b.bucket(bucket).key(key));
        } catch (NoSuchKeyException e) {
            throw new NoSuchFileException(key, null, "blob " + sha256 + " is missing");
        } catch (SdkException e) {
            throw new IOException("could not read blob " + sha256 + " from S3: " + e.getMessage(), e);
        }
    }

    @Override
    public Path localCopy(String sha256) throws IOException {
        Path copy = cachedCopy(sha256);
        if (Files.exists(copy)) {
            Files.setLastModifiedTime(copy, FileTime.fromMillis(System.currentTimeMillis()));
            return copy;
        }
        Files.createDirectories(copy.getParent());
        Path partial = Files.createTempFile(copy.getParent(), sha256 + "-", ".part");
        try {
            MessageDigest digest = BlobStaging.sha256Digest();
            try (InputStream in = new DigestInputStream(open(sha256), digest);
                 OutputStream out = Files.newOutputStream(partial)) {
                in.transferTo(out);
            }
            String actual = HexFormat.of().formatHex(digest.digest());
            if (!actual.equals(sha256)) {
                throw new IOException("blob " + sha256 + " in S3 has sha256 " + actual + "; refusing the corrupt copy");
            }
            Files.move(partial, copy, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(partial);
        }
        evictBeyondBudget(copy);
        return copy;
    }

    /** Deletes the least recently used local copies until the cache fits its budget; never {@code keep}. */
    private synchronized void evictBeyondBudget(Path keep) throws IOException {
        List<Path> copies;
        try (Stream<Path> files = Files.walk(cache, 2)) {
            copies = files.filter(Files::isRegularFile)
                    .filter(p -> SHA256.matcher(p.getFileName().toString()).matches())
                    .toList();
        }
        long total = 0;
        for (Path copy : copies) {
            total += sizeOf(copy);
        }
        if (total <= cacheMaxBytes) {
            return;
        }
        List<Path> oldestFirst = new ArrayList<>(copies);
        oldestFirst.sort(Comparator.comparingLong(S3BlobStore::lastUsed));
        for (Path copy : oldestFirst) {
            if (total <= cacheMaxBytes) {
                break;
            }
            if (!copy.equals(keep)) {
                long size = sizeOf(copy);
                // A reader that mapped it keeps its mapping; the next one downloads again.
                if (Files.deleteIfExists(copy)) {
                    total -= size;
                }
            }
        }
    }

    @Override
    public boolean exists(String sha256) {
        return head(key(sha256)).isPresent();
    }

    /** The object's metadata; empty where there is no such object. */
    private Optional<HeadObjectResponse> head(String key) {
        try {
            return Optional.of(s3.headObject(b -> b.bucket(bucket).key(key)));
        } catch (NoSuchKeyException e) {
            return Optional.empty();
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return Optional.empty();
            }
            throw e;
        }
    }

    @Override
    public void delete(String sha256) throws IOException {
        String key = key(sha256);
        try {
            s3.deleteObject(b -> b.bucket(bucket).key(key));
        } catch (SdkException e) {
            throw new IOException("could not delete blob " + sha256 + " from S3: " + e.getMessage(), e);
        }
        Files.deleteIfExists(cachedCopy(sha256));
    }

    @Override
    public Set<String> listOlderThan(long olderThanMillis) throws IOException {
        long cutoff = System.currentTimeMillis() - olderThanMillis;
        Set<String> found = new HashSet<>();
        try {
            for (S3Object object : s3.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(prefix + "sha256/")).contents()) {
                String name = object.key().substring(object.key().lastIndexOf('/') + 1);
                if (SHA256.matcher(name).matches() && object.lastModified().toEpochMilli() < cutoff) {
                    found.add(name);
                }
            }
        } catch (SdkException e) {
            throw new IOException("could not list blobs in S3: " + e.getMessage(), e);
        }
        return found;
    }

    @Override
    public int purgeStaleStaging(long olderThanMillis) throws IOException {
        return staging.purgeOlderThan(olderThanMillis);
    }

    @Override
    public void close() {
        s3.close();
    }

    private String key(String sha256) {
        BlobStore.requireSha256(sha256);
        return prefix + "sha256/" + sha256.substring(0, 2) + "/" + sha256;
    }

    private Path cachedCopy(String sha256) {
        BlobStore.requireSha256(sha256);
        return cache.resolve(sha256.substring(0, 2)).resolve(sha256);
    }

    private static long sizeOf(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return 0;
        }
    }

    private static long lastUsed(Path file) {
        try {
            return Files.getLastModifiedTime(file).toMillis();
        } catch (IOException e) {
            return 0;
        }
    }

    /** {@code length} bytes of {@code file} from {@code start}: one part of a multipart upload. */
    private static InputStream slice(Path file, long start, long length) {
        try {
            FileChannel channel = FileChannel.open(file, StandardOpenOption.READ).position(start);
            return new InputStream() {
                private long remaining = length;

                @Override
                public int read() throws IOException {
                    byte[] one = new byte[1];
                    return read(one, 0, 1) < 0 ? -1 : one[0] & 0xFF;
                }

                @Override
                public int read(byte[] buffer, int offset, int count) throws IOException {
                    if (remaining <= 0) {
                        return -1;
                    }
                    int n = channel.read(ByteBuffer.wrap(buffer, offset, (int) Math.min(count, remaining)));
                    if (n > 0) {
                        remaining -= n;
                    }
                    return n;
                }

                @Override
                public void close() throws IOException {
                    channel.close();
                }
            };
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
