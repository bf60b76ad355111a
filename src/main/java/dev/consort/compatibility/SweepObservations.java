package dev.consort.compatibility;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What a tenant's succeeded sweeps realised, step by step, as observations for a {@link CompatibilityModel}: the
 * specialists' CKA on the adaptation data and the merge's gain over the better expert. Only sweeps that merged with
 * the method asked for and measured CKA as the compatibility job does (the paper's: residual stream of one layer,
 * window means, linear estimator) count; step 0 (the base with itself) does not.
 */
@Component
class SweepObservations {

    private final JdbcTemplate jdbc;
    private final JsonMapper json;

    SweepObservations(JdbcTemplate jdbc, JsonMapper json) {
        this.jdbc = jdbc;
        this.json = json;
    }

    List<CompatibilityModel.Observation> of(String tenant, String method) {
        List<CompatibilityModel.Observation> observations = new ArrayList<>();
        jdbc.query("""
                select id, result::text as result from job
                where tenant = ? and type = 'sweep' and status = 'succeeded' order by id""", rs -> {
            UUID sweep = rs.getObject("id", UUID.class);
            JsonNode result = json.readTree(rs.getString("result"));
            JsonNode cka = result.path("cka");
            if (!method.equals(result.path("method").asText()) || !"residual".equals(cka.path("representation").asText())
                    || !"mean".equals(cka.path("pooling").asText()) || !"linear".equals(cka.path("estimator").asText())
                    || cka.path("mean_over_layers").asBoolean()) {
                return;
            }
            for (JsonNode row : result.path("rows")) {
                JsonNode gain = row.path("gain_over_better_expert").path("gain");
                JsonNode similarity = row.path("cka_adaptation");
                if (row.path("step").asLong() > 0 && gain.isNumber() && similarity.isNumber()) {
                    observations.add(new CompatibilityModel.Observation(sweep, row.path("step").asLong(),
                            similarity.asDouble(), gain.asDouble()));
                }
            }
        }, tenant);
        return observations;
    }
}
