package dev.consort.job;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/**
 * The job types this build runs: one per {@link JobHandler} bean, registered by the handler itself (its
 * {@link JobHandler#type()} and {@link JobHandler#specType()}), so adding a job type is one handler class.
 * The API validates submissions against them and the workers run them.
 */
@Component
public class JobTypes {

    private final Map<String, JobHandler<?, ?>> byType = new TreeMap<>();

    @Autowired
    public JobTypes(ObjectProvider<JobHandler<?, ?>> handlerBeans) {
        this(handlerBeans.orderedStream().toList());
    }

    public JobTypes(List<JobHandler<?, ?>> handlers) {
        for (JobHandler<?, ?> handler : handlers) {
            JobHandler<?, ?> previous = byType.put(handler.type(), handler);
            if (previous != null) {
                throw new IllegalStateException("two handlers for job type " + handler.type() + ": "
                        + previous.getClass().getName() + " and " + handler.getClass().getName());
            }
        }
    }

    public Optional<JobHandler<?, ?>> handler(String type) {
        return Optional.ofNullable(byType.get(type));
    }

    /** Every type's name, sorted. */
    public Set<String> names() {
        return java.util.Collections.unmodifiableSet(byType.keySet());
    }

    /** The handlers of the types the API contract documents ({@link JobHandler#documented()}), by type. */
    public Collection<JobHandler<?, ?>> documented() {
        return byType.values().stream().filter(JobHandler::documented).toList();
    }
}
