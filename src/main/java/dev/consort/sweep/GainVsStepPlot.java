package dev.consort.sweep;

import java.util.List;

import org.springframework.stereotype.Component;

import dev.consort.job.JobPlot;
import dev.consort.job.JobView;
import dev.consort.plot.Figure;
import dev.consort.plot.LinePlot;
import tools.jackson.databind.JsonNode;

/**
 * How much the merge gains over the better expert at each step (the better expert's loss minus the merge's,
 * window by window), with its paired 95% interval: above zero, merging pays.
 */
@Component
class GainVsStepPlot implements JobPlot {

    @Override
    public String jobType() {
        return "sweep";
    }

    @Override
    public String name() {
        return "gain-vs-step";
    }

    @Override
    public Figure draw(JobView job) {
        JsonNode rows = job.result().path("rows");
        double[] steps = JobPlot.column(rows, "step");
        double[] zero = new double[steps.length];
        return new LinePlot("Merge gain over the better expert along fine-tuning", "step",
                "better expert's loss − merge loss (nats)", List.of(
                        new LinePlot.Series("gain (95% interval)", steps,
                                JobPlot.column(rows, "gain_over_better_expert", "gain"), LinePlot.Mark.LINE_AND_POINTS,
                                JobPlot.column(rows, "gain_over_better_expert", "ci95_low"),
                                JobPlot.column(rows, "gain_over_better_expert", "ci95_high")),
                        new LinePlot.Series("no gain", steps, zero, LinePlot.Mark.LINE)),
                List.of(new LinePlot.Marker(job.result().path("critical_step").asDouble(), "critical step")));
    }
}
