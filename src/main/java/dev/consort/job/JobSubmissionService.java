package dev.consort.job;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.springframework.dao.DuplicateKeyException;
import org.springframework.http.HttpStatus;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Service;
import org.springframework.transaction.support.TransactionTemplate;

import dev.consort.ConsortProperties;
import dev.consort.database.TimeOrderedIds;
import dev.consort.job.spec.InputRef;
import dev.consort.job.spec.JobSpec;
import dev.consort.tenant.CurrentTenant;
import dev.consort.tenant.TenantQuotas;
import dev.consort.web.ApiProblem.FieldError;
import dev.consort.web.ApiProblem;
import dev.consort.web.ProblemType;
import dev.consort.web.StrictJson;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.Validator;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Validates a job submission completely before anything is stored — type, spec fields, referenced ids,
 * device, and the handler's own checks ({@link JobHandler#plan}) — then queues it with its plan,
 * honouring an {@code Idempotency-Key}.
 */
@Service
public class JobSubmissionService {

    private static final Pattern CAMEL_HUMP = Pattern.compile("([a-z0-9])([A-Z])");
    private static final List<String> DEVICE_CLASSES = List.of("any", "cpu", "gpu");

    /** The job and whether it already existed under the same idempotency key. */
    public record Submitted(JobView job, boolean replayed) {}

    private final JobRepository jobs;
    private final JobTypes types;
    private final JdbcTemplate jdbc;
    private final TransactionTemplate tx;
    private final Validator validator;
    private final StrictJson strictJson;
    private final JsonMapper json;
    private final ConsortProperties properties;
    private final TenantQuotas quotas;

    public JobSubmissionService(JobRepository jobs, JobTypes types, JdbcTemplate jdbc, TransactionTemplate tx,
            Validator validator, JsonMapper json, ConsortProperties properties, TenantQuotas quotas) {
        this.jobs = jobs;
        this.quotas = quotas;
        this.types = types;
        this.jdbc = jdbc;
        this.tx = tx;
        this.validator = validator;
        this.json = json;
        this.strictJson = new StrictJson(json);
        this.properties = properties;
    }

    public Submitted submit(JobSubmission submission, String idempotencyKey) {
        return submit(submission, null, idempotencyKey);
    }

    /**
     * Queues a job whose plan the caller built and validated itself from another form of the request (a
     * mergekit YAML config): the spec is still checked field by field and for its references, and is what
     * the job shows; the handler's {@link JobHandler#plan} is not asked again.
     *
     * @param plan the plan for the job's handler, or null to have the handler plan the spec
     */
    public Submitted submit(JobSubmission submission, Object plan, String idempotencyKey) {
        if (idempotencyKey != null && (idempotencyKey.isBlank() || idempotencyKey.length() > 200)) {
            throw ApiProblem.badRequest("Idempotency-Key", "must be 1 to 200 characters");
        }
        String tenant = CurrentTenant.orDefault();
        String requestHash = sha256(canonical(json.valueToTree(submission)));
        if (idempotencyKey != null) {
            var existing = replay(tenant, idempotencyKey, requestHash);
            if (existing != null) {
                return existing;
            }
        }
        Validated validated = validate(submission, plan, tenant);
        UUID id = TimeOrderedIds.next();
        try {
            tx.executeWithoutResult(t -> {
                // Counted under the tenant's lock, in the inserting transaction: two submissions cannot both take
                // the last place in the quota.
                quotas.checkNewJob(tenant);
                jobs.insert(tenant, id, submission.type(), submission.name(), validated.deviceClass(),
                        validated.priority(), validated.maxAttempts(), json.writeValueAsString(submission.spec()),
                        json.writeValueAsString(validated.plan()), idempotencyKey, requestHash,
                        validated.spec().inputs());
            });
        } catch (DuplicateKeyException raced) {
            // Another request with the same key won the race; answer as its replay.
            var existing = replay(tenant, idempotencyKey, requestHash);
            if (existing != null) {
                return existing;
            }
            throw raced;
        }
        return new Submitted(jobs.find(id).orElseThrow(), false);
    }

    private Submitted replay(String tenant, String idempotencyKey, String requestHash) {
        var existing = jobs.findByIdempotencyKey(tenant, idempotencyKey);
        if (existing.isEmpty()) {
            return null;
        }
        if (!requestHash.equals(existing.get().getValue())) {
            throw new ApiProblem(HttpStatus.UNPROCESSABLE_CONTENT, ProblemType.IDEMPOTENCY_CONFLICT,
                    "Idempotency-Key '" + idempotencyKey + "' was already used for a different request (job "
                            + existing.get().getKey() + ")");
        }
        return new Submitted(jobs.find(existing.get().getKey()).orElseThrow(), true);
    }

    private record Validated(JobSpec spec, Object plan, String deviceClass, int priority, int maxAttempts) {}

    private Validated validate(JobSubmission submission, Object plan, String tenant) {
        String type = submission.type();
        if (type == null || type.isBlank()) {
            throw ApiProblem.invalidField("type", "is required; one of " + types.names());
        }
        JobHandler<?, ?> handler = types.handler(type).orElseThrow(() ->
                ApiProblem.invalidField("type", "unknown job type '" + type + "'; one of " + types.names()));

        List<FieldError> errors = new ArrayList<>();
        if (submission.name() != null && submission.name().length() > 200) {
            errors.add(new FieldError("name", "must be at most 200 characters"));
        }
        String device = submission.device() == null ? "any" : submission.device();
        if (!DEVICE_CLASSES.contains(device)) {
            errors.add(new FieldError("device", "must be one of " + DEVICE_CLASSES + ", got '" + device + "'"));
        }
        int priority = submission.priority() == null ? 0 : submission.priority();
        if (priority < -100 || priority > 100) {
            errors.add(new FieldError("priority", "must be between -100 and 100"));
        }
        int maxAttempts = submission.maxAttempts() == null ? properties.worker().maxAttempts() : submission.maxAttempts();
        if (maxAttempts < 1 || maxAttempts > 20) {
            errors.add(new FieldError("max_attempts", "must be between 1 and 20"));
        }
        JobSpec spec = bindSpec(submission.spec(), handler.specType(), errors);
        if (spec != null) {
            for (ConstraintViolation<JobSpec> violation : validator.validate(spec)) {
                errors.add(new FieldError("spec." + snakeCase(violation.getPropertyPath().toString()), violation.getMessage()));
            }
            spec.crossFieldErrors().forEach(e -> errors.add(new FieldError("spec." + e.field(), e.message())));
            if (errors.isEmpty()) {
                for (InputRef ref : spec.inputs()) {
                    if (!exists(ref, tenant)) {
                        errors.add(new FieldError("spec." + ref.field(), "no " + ref.kind().label() + " with id " + ref.id()));
                    }
                }
            }
        }
        if (errors.isEmpty() && plan == null) {
            try {
                plan = plan(handler, spec);
            } catch (InvalidSpecException e) {
                e.errors().forEach(error -> errors.add(new FieldError("spec." + error.field(), error.message())));
            }
        }
        if (!errors.isEmpty()) {
            errors.sort((a, b) -> a.field().compareTo(b.field()));
            throw ApiProblem.invalid(errors);
        }
        return new Validated(spec, plan, device, priority, maxAttempts);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Object plan(JobHandler handler, JobSpec spec) throws InvalidSpecException {
        return handler.plan(spec);
    }

    private JobSpec bindSpec(JsonNode spec, Class<? extends JobSpec> specType, List<FieldError> errors) {
        if (spec == null || spec.isNull()) {
            errors.add(new FieldError("spec", "is required"));
            return null;
        }
        if (!spec.isObject()) {
            errors.add(new FieldError("spec", "must be a JSON object"));
            return null;
        }
        return strictJson.bind(spec, specType, "spec", errors);
    }

    /** Inputs are looked up within the submitter's tenant: another tenant's id names nothing. */
    private boolean exists(InputRef ref, String tenant) {
        Boolean found = jdbc.queryForObject("select exists (select 1 from " + ref.kind().table()
                + " where id = ? and tenant = ?)", Boolean.class, ref.id(), tenant);
        return Boolean.TRUE.equals(found);
    }

    static String snakeCase(String propertyPath) {
        Matcher m = CAMEL_HUMP.matcher(propertyPath);
        return m.replaceAll("$1_$2").toLowerCase();
    }

    /** JSON with object keys sorted, so the same request always hashes the same. */
    private String canonical(JsonNode node) {
        return json.writeValueAsString(sortKeys(node));
    }

    private JsonNode sortKeys(JsonNode node) {
        if (node.isObject()) {
            Map<String, JsonNode> sorted = new TreeMap<>();
            node.properties().forEach(e -> sorted.put(e.getKey(), sortKeys(e.getValue())));
            ObjectNode out = json.createObjectNode();
            sorted.forEach(out::set);
            return out;
        }
        if (node.isArray()) {
            var out = json.createArrayNode();
            node.forEach(child -> out.add(sortKeys(child)));
            return out;
        }
        return node;
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
