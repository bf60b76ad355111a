package dev.consort.worker;

import dev.consort.job.spec.JobSpec;

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

    /** Runs the job to completion and returns its result (serialised to JSON), or null for none. */
    Object run(S spec, JobContext context) throws Exception;
}
