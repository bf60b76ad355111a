package dev.consort;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.JsonNode;

import dev.consort.support.ApiTest;

class PlatformSmokeTest extends ApiTest {

    @Test
    void unknownRouteIsAProblem() {
        HttpResponse<String> response = get("/no/such/route");
        assertThat(response.statusCode()).isEqualTo(404);
        assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(
                ct -> assertThat(ct).startsWith("application/problem+json"));
        JsonNode problem = json(response);
        assertThat(problem.path("type").asText()).isEqualTo("https://consort.dev/problems/not-found");
        assertThat(problem.path("status").asInt()).isEqualTo(404);
    }

    @Test
    void readinessIncludesTheDatabase() {
        HttpResponse<String> response = get("/actuator/health/readiness");
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(json(response).path("status").asText()).isEqualTo("UP");
        assertThat(get("/actuator/health/liveness").statusCode()).isEqualTo(200);
    }

    @Test
    void flywayMigratedTheSchema() {
        Integer tables = jdbc.queryForObject(
                "select count(*) from information_schema.tables where table_name in ('job','checkpoint','dataset','blob')",
                Integer.class);
        assertThat(tables).isEqualTo(4);
    }
}
