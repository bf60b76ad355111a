package dev.consort.sweep;

import java.util.List;

import org.springframework.stereotype.Component;

import dev.consort.job.JobPlot;
import dev.consort.job.JobView;
import dev.consort.plot.Figure;
import dev.consort.plot.LinePlot;
import tools.jackson.databind.JsonNode;

/** The best activation-interpolation loss at each step, beside the experts alone on the same windows. */
@Component
class MergeLossVsStepPlot implements JobPlot {

    @Override
    public String jobType() {
        return "sweep";
    }

    @Override
    public String name() {
        return "merge-loss-vs-step";
    }

    @Override
    public Figure draw(JobView job) {
        JsonNode rows = job.result().path("rows");
        double[] steps = JobPlot.column(rows, "step");
        // The merge pays where its line is below both experts'.
        return new LinePlot("Best activation-interpolation loss along fine-tuning", "step",
                "loss on the adaptation data (nats)", List.of(
                        new LinePlot.Series("merge (best α)", steps, JobPlot.column(rows, "merge_loss"),
                                LinePlot.Mark.LINE_AND_POINTS),
                        new LinePlot.Series("expert A alone", steps, JobPlot.column(rows, "expert_a_loss"),
                                LinePlot.Mark.LINE),
                        new LinePlot.Series("expert B alone", steps, JobPlot.column(rows, "expert_b_loss"),
                                LinePlot.Mark.LINE)),
                List.of(new LinePlot.Marker(job.result().path("critical_step").asDouble(), "critical step")));
    }
}
