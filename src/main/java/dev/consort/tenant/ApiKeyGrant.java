package dev.consort.tenant;

import java.util.UUID;

/** What a verified API key allows: its tenant and its limits (null: none of its own). */
record ApiKeyGrant(UUID keyId, String tenant, Long uploadLimitBytes, Integer rateLimitPerMinute) {}
