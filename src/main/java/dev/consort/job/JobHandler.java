package dev.consort.job;

import dev.consort.job.spec.JobSpec;

/**
 * Runs jobs of one type. Handlers are Spring beans collected by {@link JobTypes}; adding a job type is one
 * handler class (its spec record nested in it or beside it). A job goes through a handler twice:
 * <ol>
 *   <li>at submission, {@link #plan} checks the bound spec against everything only the handler knows
 *       (method registries, the referenced checkpoints' shapes) and returns the validated, resolved form
 *       the job will run; it is stored with the job, and nothing is stored when it throws;</li>
 *   <li>on a worker, {@link #run} gets that plan back (bound from its JSON) and reports through its
 *       {@link JobContext}, calling {@link JobContext#checkCancelled()} between steps so that cancellation
 *       and shutdown are cooperative.</li>
 * </ol>
 *
 * @param <S> the spec record the job's {@code spec} JSON is bound to
 * @param <P> the validated plan {@link #run} receives; JSON-serialisable (a record), or {@code S} itself
 *            when the spec needs no resolving
 */
public interface JobHandler<S extends JobSpec, P> {

    /** The job {@code type} this handler runs, e.g. {@code finetune}. */
    String type();

    Class<S> specType();

    Class<P> planType();

    /**
     * Validates a submitted spec whose fields and references already passed, and resolves it into what
     * {@link #run} needs. Problems name spec fields relative to the spec (e.g.
     * {@code methods[1].parameters.density}).
     */
    P plan(S spec) throws InvalidSpecException;

    /** Runs the job to completion and returns its result (serialised to JSON), or null for none. */
    Object run(P plan, JobContext context) throws Exception;

    /** Whether the API contract lists this type; false for internal types such as tests' own. */
    default boolean documented() {
        return true;
    }
}
