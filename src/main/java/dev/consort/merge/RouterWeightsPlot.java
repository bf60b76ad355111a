package dev.consort.merge;

import java.util.ArrayList;
import java.util.List;

import org.springframework.http.HttpStatus;
import org.springframework.stereotype.Component;

import dev.consort.job.JobPlot;
import dev.consort.job.JobView;
import dev.consort.plot.Figure;
import dev.consort.plot.Heatmap;
import dev.consort.web.ApiProblem;
import dev.consort.web.ProblemType;
import tools.jackson.databind.JsonNode;

/**
 * Router statistics as a heatmap: for every routed model of a merge job, each layer's mean weight on each of its
 * experts over the first eval dataset's windows (a panel per model; layers up, experts across).
 */
@Component
class RouterWeightsPlot implements JobPlot {

    @Override
    public String jobType() {
        return "merge";
    }

    @Override
    public String name() {
        return "router-weights";
    }

    @Override
    public Figure draw(JobView job) {
        List<Heatmap.Panel> panels = new ArrayList<>();
        for (JsonNode output : job.result().path("outputs")) {
            JsonNode weights = output.path("router_weights").path("layers");
            if (!weights.isArray() || weights.isEmpty()) {
                continue;
            }
            double[][] values = new double[weights.size()][];
            for (int layer = 0; layer < weights.size(); layer++) {
                values[layer] = new double[weights.get(layer).size()];
                for (int e = 0; e < values[layer].length; e++) {
                    values[layer][e] = weights.get(layer).get(e).asDouble();
                }
            }
            List<String> experts = new ArrayList<>();
            output.path("router_weights").path("experts").forEach(name -> experts.add(name.asText()));
            panels.add(new Heatmap.Panel(output.path("label").asText(), values, "layer", String.join(" · ", experts)));
        }
        if (panels.isEmpty()) {
            throw new ApiProblem(HttpStatus.NOT_FOUND, ProblemType.NOT_FOUND,
                    "Merge job " + job.id() + " made no routed model, so it has no router weights");
        }
        return new Heatmap("Mean expert weight per layer", panels, "weight");
    }
}
