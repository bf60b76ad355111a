package dev.consort.worker;

import java.util.UUID;

/** A worker's claim on a job: every write about the job is conditional on {@code owner} still holding it. */
public record Lease(UUID jobId, String owner) {}
