package dev.consort.worker;

/** A job just claimed from the queue, with the spec JSON to bind for its handler. */
public record ClaimedJob(Lease lease, String type, String specJson, int attempt, int maxAttempts) {}
