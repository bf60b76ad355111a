package dev.consort.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;

import dev.consort.support.ApiTest;

/**
 * {@code openapi.yaml} at the repository root is the contract: it must equal what the running service
 * serves. After an intended API change, regenerate it with
 * {@code mvn test -Dtest=OpenApiContractTest -Dconsort.openapi.write=true} and review the diff.
 */
class OpenApiContractTest extends ApiTest {

    private static final Path CONTRACT = Path.of("openapi.yaml");

    @Test
    void servedApiDocsEqualTheContract() throws IOException {
        HttpResponse<String> served = get("/v3/api-docs.yaml");
        assertThat(served.statusCode()).isEqualTo(200);
        if (Boolean.getBoolean("consort.openapi.write")) {
            Files.writeString(CONTRACT, served.body(), StandardCharsets.UTF_8);
        }
        assertThat(Files.exists(CONTRACT)).as("openapi.yaml at the repository root").isTrue();
        Object contract = parse(Files.readString(CONTRACT, StandardCharsets.UTF_8));
        Object actual = parse(get("/v3/api-docs").body());
        assertThat(actual)
                .as("served /v3/api-docs differs from openapi.yaml; regenerate it with -Dconsort.openapi.write=true")
                .isEqualTo(contract);
    }

    @Test
    void swaggerUiIsServed() {
        HttpResponse<String> ui = get("/swagger-ui/index.html");
        assertThat(ui.statusCode()).isEqualTo(200);
        assertThat(ui.body()).containsIgnoringCase("swagger");
        assertThat(send(java.net.http.HttpRequest.newBuilder(uri("/swagger-ui.html")).GET()).statusCode())
                .isIn(200, 302);
    }

    private static Object parse(String yamlOrJson) {
        LoaderOptions options = new LoaderOptions();
        options.setCodePointLimit(50 * 1024 * 1024);
        return new Yaml(options).load(yamlOrJson);
    }
}
