package dev.consort.tenant;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.LongAdder;
import java.util.regex.Pattern;

import org.springframework.jdbc.core.JdbcTemplate;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.springframework.stereotype.Service;

import dev.consort.database.TimeOrderedIds;
import dev.consort.web.ApiProblem;
import dev.consort.web.ApiProblem.FieldError;
import dev.consort.web.CursorPage;

/**
 * Tenants' API keys in PostgreSQL. A key is 32 random bytes (base64url, prefixed {@code csk_}); only its
 * SHA-256 is stored, which is safe for a key with that much entropy. Verified keys are cached for
 * {@code consort.auth.key-cache-ttl} so a request costs no query; revoking here evicts at once, a
 * revocation made by another process takes effect when the cache entry expires. A token that does not have a
 * key's shape is refused without a query, and so is, for the same TTL, one the database did not know: a client
 * cycling bad tokens costs no database work.
 */
@Service
public class ApiKeys {

    static final String KEY_PREFIX = "csk_";
    private static final int PREFIX_SHOWN = 12;
    private static final int MAX_CACHED = 10_000;
    private static final SecureRandom RANDOM = new SecureRandom();

    /** What every key this service makes looks like: the prefix and 32 bytes in unpadded base64url. */
    private static final Pattern SHAPE = Pattern.compile("csk_[A-Za-z0-9_-]{43}");

    private final JdbcTemplate jdbc;
    /** Grants of verified keys by the key's SHA-256, each for the cache TTL, at most {@value #MAX_CACHED} of them. */
    private final Cache<String, ApiKeyGrant> verified;
    /** The SHA-256 of well-formed keys the database did not know (or knew revoked), for the same TTL. */
    private final Cache<String, Boolean> refused;
    private final LongAdder lookups = new LongAdder();

    ApiKeys(JdbcTemplate jdbc, AuthProperties properties) {
        this.jdbc = jdbc;
        this.verified = Caffeine.newBuilder().maximumSize(MAX_CACHED).expireAfterWrite(properties.keyCacheTtl()).build();
        this.refused = Caffeine.newBuilder().maximumSize(MAX_CACHED).expireAfterWrite(properties.keyCacheTtl()).build();
    }

    /** Makes a key; the returned value is the only copy of the key there will ever be. */
    public CreatedApiKey create(NewApiKey request) {
        List<FieldError> errors = new ArrayList<>();
        if (request.tenant() == null || !CurrentTenant.NAME.matcher(request.tenant()).matches()) {
            errors.add(new FieldError("tenant", "must be 1 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter "
                    + "or digit"));
        }
        if (request.name() == null || request.name().isBlank() || request.name().length() > 200
                || request.name().chars().anyMatch(Character::isISOControl)) {
            errors.add(new FieldError("name", "is required: 1 to 200 characters, no control characters"));
        }
        if (request.uploadLimitBytes() != null && request.uploadLimitBytes() < 1) {
            errors.add(new FieldError("upload_limit_bytes", "must be at least 1"));
        }
        if (request.rateLimitPerMinute() != null
                && (request.rateLimitPerMinute() < 1 || request.rateLimitPerMinute() > 1_000_000)) {
            errors.add(new FieldError("rate_limit_per_minute", "must be between 1 and 1000000"));
        }
        if (!errors.isEmpty()) {
            throw ApiProblem.invalid(errors);
        }
        byte[] random = new byte[32];
        RANDOM.nextBytes(random);
        String key = KEY_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(random);
        UUID id = TimeOrderedIds.next();
        jdbc.update("""
                insert into api_key (id, tenant, name, prefix, key_sha256, upload_limit_bytes, rate_limit_per_minute)
                values (?, ?, ?, ?, ?, ?, ?)""",
                id, request.tenant(), request.name().strip(), key.substring(0, PREFIX_SHOWN), sha256(key),
                request.uploadLimitBytes(), request.rateLimitPerMinute());
        return CreatedApiKey.of(find(id), key);
    }

    public ApiKeyView find(UUID id) {
        return jdbc.query("select * from api_key where id = ?", ApiKeys::view, id).stream().findFirst()
                .orElseThrow(() -> ApiProblem.notFound("API key", id));
    }

    /** Newest first, optionally of one tenant. */
    public CursorPage<ApiKeyView> page(String tenant, UUID after, int limit) {
        List<ApiKeyView> rows = jdbc.query("""
                select * from api_key
                where (?::text is null or tenant = ?) and (?::uuid is null or id < ?)
                order by id desc limit ?""", ApiKeys::view, tenant, tenant, after, after, limit + 1);
        return CursorPage.of(rows, limit, v -> v, v -> v.id().toString());
    }

    /** Revokes a key for good (revoking twice is harmless); its requests get 401 from now on. */
    public void revoke(UUID id) {
        find(id);
        jdbc.update("update api_key set revoked_at = coalesce(revoked_at, now()) where id = ?", id);
        verified.asMap().values().removeIf(grant -> grant.keyId().equals(id));
    }

    /** The grant of a key verified within the cache's TTL, found without a database lookup; else empty. */
    Optional<ApiKeyGrant> recentlyVerified(String key) {
        return SHAPE.matcher(key).matches() ? Optional.ofNullable(verified.getIfPresent(sha256(key))) : Optional.empty();
    }

    /** The grant of a working key; empty for a key that is malformed, unknown or revoked. */
    Optional<ApiKeyGrant> verify(String key) {
        if (!SHAPE.matcher(key).matches()) {
            return Optional.empty();
        }
        String hash = sha256(key);
        ApiKeyGrant cached = verified.getIfPresent(hash);
        if (cached != null) {
            return Optional.of(cached);
        }
        if (refused.getIfPresent(hash) != null) {
            return Optional.empty();
        }
        lookups.increment();
        Optional<ApiKeyGrant> grant = jdbc.query("""
                select id, tenant, upload_limit_bytes, rate_limit_per_minute from api_key
                where key_sha256 = ? and revoked_at is null""",
                (rs, i) -> new ApiKeyGrant(rs.getObject("id", UUID.class), rs.getString("tenant"),
                        rs.getObject("upload_limit_bytes", Long.class),
                        rs.getObject("rate_limit_per_minute", Integer.class)),
                hash).stream().findFirst();
        if (grant.isPresent()) {
            verified.put(hash, grant.get());
        } else {
            refused.put(hash, Boolean.TRUE);
        }
        return grant;
    }

    /** How many times a key was looked up in the database, for tests and metrics. */
    long lookups() {
        return lookups.sum();
    }

    /** Whether any key was ever made here (revoked ones count: once keys are in use, they stay required). */
    boolean anyExist() {
        return Boolean.TRUE.equals(jdbc.queryForObject("select exists (select 1 from api_key)", Boolean.class));
    }

    static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM lacks SHA-256", e);
        }
    }

    private static ApiKeyView view(ResultSet rs, int row) throws SQLException {
        return new ApiKeyView(rs.getObject("id", UUID.class), rs.getString("tenant"), rs.getString("name"),
                rs.getString("prefix"), rs.getObject("upload_limit_bytes", Long.class),
                rs.getObject("rate_limit_per_minute", Integer.class),
                rs.getObject("created_at", OffsetDateTime.class), rs.getObject("revoked_at", OffsetDateTime.class));
    }
}
