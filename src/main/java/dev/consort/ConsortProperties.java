package dev.consort;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * Everything an operator can set, bound from {@code consort.*} (or the matching environment variables,
 * e.g. {@code CONSORT_DATA_DIR}).
 *
 * @param dataDir  where the embedded PostgreSQL and the filesystem blobs live
 * @param role     {@code api}, {@code worker} or {@code both}: the same jar plays either part
 * @param upload   upload limits
 * @param worker   queue and worker settings
 */
@ConfigurationProperties("consort")
public record ConsortProperties(
        @DefaultValue("./data") Path dataDir,
        @DefaultValue("both") Role role,
        @DefaultValue Upload upload,
        @DefaultValue Worker worker) {

    public enum Role { API, WORKER, BOTH;
        public boolean runsApi() { return this != WORKER; }
        public boolean runsWorkers() { return this != API; }
    }

    /**
     * @param maxBytes        largest accepted upload file (checkpoint weights, dataset files)
     * @param maxRequestBytes largest whole multipart request, all its parts together; unset: two files of
     *                        {@code maxBytes} (a dataset and its validation file) and 16 MB of other fields
     */
    public record Upload(@DefaultValue("2GB") DataSize maxBytes, DataSize maxRequestBytes) {

        @Override
        public DataSize maxRequestBytes() {
            return maxRequestBytes != null ? maxRequestBytes
                    : DataSize.ofBytes(2 * maxBytes.toBytes() + DataSize.ofMegabytes(16).toBytes());
        }
    }

    /**
     * @param devices        one worker thread per entry: {@code cpu}, {@code gpu:0}, ...
     * @param lease          how long a claimed job stays ours without a heartbeat
     * @param heartbeat      how often a running job renews its lease
     * @param poll           how often an idle worker looks for work
     * @param reaperInterval how often expired leases are requeued or failed
     * @param maxAttempts    default number of claims before a job whose worker keeps dying is failed
     */
    public record Worker(
            @DefaultValue("cpu") List<String> devices,
            @DefaultValue("60s") Duration lease,
            @DefaultValue("10s") Duration heartbeat,
            @DefaultValue("1s") Duration poll,
            @DefaultValue("15s") Duration reaperInterval,
            @DefaultValue("3") int maxAttempts) {}
}
