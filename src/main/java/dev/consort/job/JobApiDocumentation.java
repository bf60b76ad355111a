package dev.consort.job;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

import org.springdoc.core.customizers.OpenApiCustomizer;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

import io.swagger.v3.core.converter.ModelConverters;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.PathItem;
import io.swagger.v3.oas.models.media.Schema;

/**
 * The job types in the API description, from {@link JobTypes}: {@code JobSubmission.type} lists them and
 * {@code JobSubmission.spec} is a oneOf of their spec records; the plot endpoint lists every
 * {@link JobPlot}. A new handler or plot shows up here without being named anywhere else.
 */
@Configuration(proxyBeanMethods = false)
class JobApiDocumentation {

    /** A spec record's schema name: its {@code @Schema(name)}, else its simple name (a nested {@code Spec} needs one). */
    private static String schemaName(Class<?> specType) {
        io.swagger.v3.oas.annotations.media.Schema annotation =
                specType.getAnnotation(io.swagger.v3.oas.annotations.media.Schema.class);
        return annotation != null && !annotation.name().isEmpty() ? annotation.name() : specType.getSimpleName();
    }

    @Bean
    OpenApiCustomizer jobTypesInTheContract(JobTypes types, JobPlotController plots) {
        return openApi -> {
            List<JobHandler<?, ?>> documented = List.copyOf(types.documented());
            Map<String, Schema> schemas = new TreeMap<>(openApi.getComponents().getSchemas());
            for (JobHandler<?, ?> handler : documented) {
                schemas.putAll(ModelConverters.getInstance().readAll(handler.specType()));
            }
            openApi.getComponents().setSchemas(schemas);

            Schema<?> submission = schemas.get("JobSubmission");
            if (submission != null && submission.getProperties() != null) {
                Schema<Object> spec = new Schema<>();
                spec.setDescription("Type-specific settings: the schema named after the job type");
                spec.setOneOf(documented.stream()
                        .map(h -> (Schema) new Schema<>().$ref("#/components/schemas/" + schemaName(h.specType())))
                        .toList());
                submission.getProperties().put("spec", spec);
                @SuppressWarnings("unchecked")
                Schema<String> type = (Schema<String>) submission.getProperties().get("type");
                if (type != null) {
                    type.setEnum(documented.stream().map(JobHandler::type).toList());
                }
            }

            PathItem plotPath = openApi.getPaths() == null ? null : openApi.getPaths().get("/jobs/{id}/plots/{plot}");
            Operation plot = plotPath == null ? null : plotPath.getGet();
            if (plot != null) {
                plot.setDescription(plot.getDescription() + " Plots by job type: " + plots.names().entrySet().stream()
                        .map(e -> e.getKey() + " (" + String.join(", ", e.getValue()) + ")")
                        .collect(Collectors.joining("; ")) + ".");
            }
        };
    }
}
