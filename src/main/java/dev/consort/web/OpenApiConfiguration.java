package dev.consort.web;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springdoc.core.utils.SpringDocUtils;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

import io.swagger.v3.oas.models.Components;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.info.Info;
import io.swagger.v3.oas.models.info.License;
import io.swagger.v3.oas.models.media.ArraySchema;
import io.swagger.v3.oas.models.media.Content;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.media.ObjectSchema;
import io.swagger.v3.oas.models.media.Schema;
import io.swagger.v3.oas.models.media.StringSchema;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.oas.models.security.SecurityRequirement;
import io.swagger.v3.oas.models.security.SecurityScheme;
import io.swagger.v3.oas.models.servers.Server;
import tools.jackson.databind.JsonNode;

/**
 * The API description served at {@code /v3/api-docs}. The server URL is relative so the document is
 * the same on every host and port: {@code openapi.yaml} at the repository root must equal it.
 */
@Configuration(proxyBeanMethods = false)
class OpenApiConfiguration {

    private static final String API_KEY = "apiKey";

    static {
        // Free-form JSON (specs, results, progress) is an object to clients, not Jackson's node API.
        SpringDocUtils.getConfig()
                .replaceWithSchema(JsonNode.class, new ObjectSchema())
                .replaceWithSchema(SseEmitter.class, new StringSchema()
                        .description("Server-Sent Events; each event's data is a JobEventView"));
    }

    @Bean
    OpenAPI consortOpenApi() {
        return new OpenAPI()
                .info(new Info()
                        .title("Consort")
                        .version("v1")
                        .description("""
                                Merging-as-a-service for GPT-2-family models: upload checkpoints and datasets, \
                                launch pretrain, finetune, evaluate, merge, CKA and sweep jobs, and follow their \
                                events and loss curves. Errors are RFC 9457 problem+json.""")
                        .license(new License().name("Apache-2.0").identifier("Apache-2.0")))
                .servers(List.of(new Server().url("/")))
                .components(new Components().addSecuritySchemes(API_KEY, new SecurityScheme()
                        .type(SecurityScheme.Type.HTTP).scheme("bearer")
                        .description("A tenant's API key (the admin key for /admin/keys). Not needed when the "
                                + "service runs without keys, on loopback only.")))
                .addSecurityItem(new SecurityRequirement().addList(API_KEY));
    }

    /** Adds the problem+json error responses every operation can give. */
    @Bean
    OpenApiCustomizer consortOpenApiCustomizer() {
        return openApi -> {
            Map<String, Schema> schemas = new TreeMap<>(openApi.getComponents().getSchemas());
            schemas.put("Problem", problemSchema());
            openApi.getComponents().setSchemas(schemas);

            Content problem = new Content().addMediaType(org.springframework.http.MediaType.APPLICATION_PROBLEM_JSON_VALUE,
                    new MediaType().schema(new Schema<>().$ref("#/components/schemas/Problem")));
            openApi.getPaths().values().forEach(path -> path.readOperations().forEach(operation -> {
                operation.getResponses().addApiResponse("4XX",
                        new ApiResponse().description("The request is wrong: RFC 9457 problem naming what").content(problem));
                operation.getResponses().addApiResponse("5XX",
                        new ApiResponse().description("Server-side failure: RFC 9457 problem").content(problem));
            }));
        };
    }

    private static Schema<?> problemSchema() {
        Schema<Object> fieldError = new ObjectSchema()
                .addProperty("field", new StringSchema().description("What is wrong: a field, form part, tensor or line"))
                .addProperty("message", new StringSchema());
        return new ObjectSchema()
                .description("RFC 9457 problem details")
                .addProperty("type", new StringSchema().format("uri").description("Stable problem type URI"))
                .addProperty("title", new StringSchema())
                .addProperty("status", new io.swagger.v3.oas.models.media.IntegerSchema())
                .addProperty("detail", new StringSchema())
                .addProperty("instance", new StringSchema().format("uri"))
                .addProperty("errors", new ArraySchema().items(fieldError));
    }
}
