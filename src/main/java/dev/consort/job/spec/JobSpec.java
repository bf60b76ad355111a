package dev.consort.job.spec;

import java.util.List;

/**
 * The typed body of a job of one type. Implementations are records bound strictly from JSON
 * (unknown fields are errors) and checked with Bean Validation; {@link #inputs()} names every
 * checkpoint, dataset or job the spec refers to, so their existence is checked up front and they
 * cannot be deleted while the job is unfinished.
 */
public interface JobSpec {

    List<InputRef> inputs();

    /** Cross-field rules Bean Validation can't express; empty when fine. */
    default List<dev.consort.web.ApiProblem.FieldError> crossFieldErrors() {
        return List.of();
    }
}
