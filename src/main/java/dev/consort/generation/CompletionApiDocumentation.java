package dev.consort.generation;

import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import io.swagger.v3.oas.models.media.Schema;

/**
 * {@code CompletionRequest.prompt} in the contract as a value of any type whose description says what it takes (a
 * string, or a list of strings): the generated schema would say {@code type: object}, which neither is, and a
 * {@code oneOf} of a string and an array is beyond the Java client generator the contract test builds.
 */
@Configuration(proxyBeanMethods = false)
class CompletionApiDocumentation {

    @Bean
    OpenApiCustomizer promptIsAStringOrAList() {
        return openApi -> {
            Schema<?> request = openApi.getComponents() == null ? null
                    : openApi.getComponents().getSchemas().get("CompletionRequest");
            if (request == null || request.getProperties() == null || request.getProperties().get("prompt") == null) {
                return;
            }
            Schema<?> documented = request.getProperties().get("prompt");
            Schema<Object> prompt = new Schema<>();
            prompt.setDescription(documented.getDescription());
            request.getProperties().put("prompt", prompt);
        };
    }
}
