package dev.consort.worker;

import java.util.List;

import dev.consort.job.spec.JobSpec;
import dev.consort.web.ApiProblem;

/**
 * Runs jobs of one type. Handlers are Spring beans collected by {@link JobHandlerRegistry}; adding a
 * job type is one new handler class. A handler reports through its {@link JobContext} and calls
 * {@link JobContext#checkCancelled()} between steps so cancellation and shutdown are cooperative.
 *
 * @param <S> the spec record the job's {@code spec} JSON is bound to
 */
public interface JobHandler<S extends JobSpec> {

    /** The job {@code type} this handler runs, e.g. {@code finetune}. */
    String type();

    Class<S> specType();

    /**
     * Checks a submitted spec against what only the handler knows (a method registry, the shapes of the
     * referenced checkpoints), after its fields and references passed; problems name spec fields
     * relative to the spec (e.g. {@code methods[1].parameters.density}). Runs before anything is stored.
     */
    default List<ApiProblem.FieldError> validate(S spec) {
        return List.of();
    }

    /** Runs the job to completion and returns its result (serialised to JSON), or null for none. */
    Object run(S spec, JobContext context) throws Exception;
}
