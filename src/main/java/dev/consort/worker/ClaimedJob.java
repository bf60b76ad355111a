package dev.consort.worker;

/**
 * A job just claimed from the queue: its spec JSON, and the plan its handler made of it at submission
 * (null for a job queued before plans were stored).
 */
public record ClaimedJob(Lease lease, String type, String specJson, String planJson, int attempt, int maxAttempts) {}
