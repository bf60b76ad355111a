package dev.consort.storage;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * Where blobs live, bound from {@code consort.blobs.*} (environment {@code CONSORT_BLOBS_STORE},
 * {@code CONSORT_BLOBS_S3_BUCKET}, ...). Either store stages uploads under the data directory.
 *
 * @param store {@code filesystem} (under the data directory; share it between processes as a volume) or
 *              {@code s3} (an S3-compatible bucket)
 */
@ConfigurationProperties("consort.blobs")
public record BlobStoreProperties(@DefaultValue("filesystem") Store store, @DefaultValue S3 s3) {

    public enum Store { FILESYSTEM, S3 }

    /**
     * @param bucket             the bucket (it must exist)
     * @param endpoint           e.g. {@code http://minio:9000}; empty for AWS itself
     * @param region             the bucket's region (any value for most S3-compatible servers)
     * @param pathStyle          {@code http://host/bucket/key} addressing, which most S3-compatible servers want
     * @param prefix             key prefix, e.g. {@code consort/}, to share a bucket
     * @param accessKeyId        static credentials; empty to use the default AWS chain (environment
     *                           {@code AWS_ACCESS_KEY_ID}/{@code AWS_SECRET_ACCESS_KEY}, web identity, instance profile)
     * @param secretAccessKey    goes with {@code accessKeyId}
     * @param multipartThreshold blobs at least this large are uploaded in parts
     * @param partSize           size of each part (S3 allows 5 MB to 5 GB)
     * @param cacheMaxSize       local copies kept for the engine (which memory-maps files), least recently used
     *                           evicted beyond this
     */
    public record S3(
            String bucket,
            String endpoint,
            @DefaultValue("us-east-1") String region,
            @DefaultValue("false") boolean pathStyle,
            @DefaultValue("") String prefix,
            String accessKeyId,
            String secretAccessKey,
            @DefaultValue("64MB") DataSize multipartThreshold,
            @DefaultValue("64MB") DataSize partSize,
            @DefaultValue("50GB") DataSize cacheMaxSize) {
    }
}
