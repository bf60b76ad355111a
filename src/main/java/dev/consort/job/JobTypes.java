package dev.consort.job;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.Set;

import org.springframework.stereotype.Component;

import dev.consort.job.spec.CkaSpec;
import dev.consort.job.spec.EvaluateSpec;
import dev.consort.job.spec.FinetuneSpec;
import dev.consort.job.spec.JobSpec;
import dev.consort.job.spec.MergeSpec;
import dev.consort.job.spec.PretrainSpec;
import dev.consort.job.spec.SweepSpec;
import dev.consort.worker.JobHandler;
import dev.consort.worker.JobHandlerRegistry;

/**
 * The job types the API knows, each with its spec record: the service's own six, plus any type a
 * handler brings. A known type may have no handler in this build; submitting it is a 422 that says so.
 */
@Component
public class JobTypes {

    private final Map<String, Class<? extends JobSpec>> specs = new LinkedHashMap<>();
    private final JobHandlerRegistry handlers;

    public JobTypes(JobHandlerRegistry handlers) {
        this.handlers = handlers;
        specs.put("pretrain", PretrainSpec.class);
        specs.put("finetune", FinetuneSpec.class);
        specs.put("evaluate", EvaluateSpec.class);
        specs.put("merge", MergeSpec.class);
        specs.put("cka", CkaSpec.class);
        specs.put("sweep", SweepSpec.class);
        for (JobHandler<?> handler : handlers.all().values()) {
            specs.putIfAbsent(handler.type(), handler.specType());
        }
    }

    public Optional<Class<? extends JobSpec>> specType(String type) {
        return Optional.ofNullable(specs.get(type));
    }

    public boolean hasHandler(String type) {
        return handlers.find(type).isPresent();
    }

    public Optional<JobHandler<?>> handler(String type) {
        return handlers.find(type);
    }

    /** The known types this build has a handler for. */
    public Set<String> runnable() {
        return new TreeSet<>(handlers.all().keySet());
    }

    public Set<String> known() {
        return new TreeSet<>(specs.keySet());
    }
}
