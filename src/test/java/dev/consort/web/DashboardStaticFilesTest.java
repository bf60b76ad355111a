package dev.consort.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.consort.support.ApiTest;

/** The dashboard is static files served by the service itself; unknown paths stay 404 problems. */
class DashboardStaticFilesTest extends ApiTest {

    @Test
    void theDashboardIsServedAtTheRoot() {
        for (String path : List.of("/", "/index.html")) {
            HttpResponse<String> page = get(path, "text/html");
            assertThat(page.statusCode()).as(path).isEqualTo(200);
            assertThat(page.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/html"));
            assertThat(page.body()).contains("<script type=\"module\" src=\"assets/app.js\"></script>");
        }
        HttpResponse<String> script = get("/assets/app.js");
        assertThat(script.statusCode()).isEqualTo(200);
        assertThat(script.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).contains("javascript"));
        assertThat(get("/assets/style.css").headers().firstValue("Content-Type"))
                .hasValueSatisfying(t -> assertThat(t).startsWith("text/css"));
    }

    @Test
    void unknownPathsAndAssetsAreStillNotFoundProblems() {
        for (String path : List.of("/assets/no-such-file.js", "/no-such-page", "/jobs/not-a-uuid/nothing")) {
            HttpResponse<String> response = get(path);
            assertThat(response.statusCode()).as(path).isEqualTo(404);
            assertThat(response.headers().firstValue("Content-Type")).as(path)
                    .hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));
            assertThat(json(response).path("type").asText()).isEqualTo(ProblemType.NOT_FOUND.uri().toString());
        }
    }
}
