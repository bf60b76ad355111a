package dev.consort.worker;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

/** Every {@link JobHandler} bean, by job type. */
@Component
public class JobHandlerRegistry {

    private final Map<String, JobHandler<?>> byType = new HashMap<>();

    @Autowired
    public JobHandlerRegistry(ObjectProvider<JobHandler<?>> handlerBeans) {
        this(handlerBeans.orderedStream().toList());
    }

    public JobHandlerRegistry(List<JobHandler<?>> handlers) {
        for (JobHandler<?> handler : handlers) {
            JobHandler<?> previous = byType.put(handler.type(), handler);
            if (previous != null) {
                throw new IllegalStateException("two handlers for job type " + handler.type() + ": "
                        + previous.getClass().getName() + " and " + handler.getClass().getName());
            }
        }
    }

    public Optional<JobHandler<?>> find(String type) {
        return Optional.ofNullable(byType.get(type));
    }

    public Map<String, JobHandler<?>> all() {
        return Map.copyOf(byType);
    }
}
