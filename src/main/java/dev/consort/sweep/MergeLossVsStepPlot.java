package dev.consort.sweep;

import java.util.List;

import org.springframework.stereotype.Component;

import dev.consort.job.JobPlot;
import dev.consort.job.JobView;
import dev.consort.plot.Figure;
import dev.consort.plot.LinePlot;
import tools.jackson.databind.JsonNode;

/**
 * The merge's loss at each step beside the experts alone on the same windows, each with its 95% interval over
 * the windows (± 1.96 standard errors), the critical step marked.
 */
@Component
class MergeLossVsStepPlot implements JobPlot {

    /** The normal quantile of a two-sided 95% interval. */
    static final double Z95 = 1.959964;

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
        String method = job.result().path("method").asText("activation_interpolation");
        // The merge pays where its line is below both experts'.
        return new LinePlot("Merge loss along fine-tuning (" + method + ")", "step",
                "loss on the adaptation data (nats)", List.of(
                        withInterval("merge" + (method.equals("activation_interpolation") ? " (best α)" : ""), steps,
                                rows, "merge_loss", LinePlot.Mark.LINE_AND_POINTS),
                        withInterval("expert A alone", steps, rows, "expert_a_loss", LinePlot.Mark.LINE),
                        withInterval("expert B alone", steps, rows, "expert_b_loss", LinePlot.Mark.LINE)),
                List.of(new LinePlot.Marker(job.result().path("critical_step").asDouble(), "critical step")));
    }

    private static LinePlot.Series withInterval(String name, double[] steps, JsonNode rows, String field,
            LinePlot.Mark mark) {
        double[] loss = JobPlot.column(rows, field);
        double[] error = JobPlot.column(rows, field + "_se");
        return new LinePlot.Series(name, steps, loss, mark, JobPlot.offset(loss, error, -Z95),
                JobPlot.offset(loss, error, Z95));
    }
}
