package dev.consort.sweep;

import java.util.List;

import org.springframework.stereotype.Component;

import dev.consort.job.JobPlot;
import dev.consort.job.JobView;
import dev.consort.plot.Figure;
import dev.consort.plot.LinePlot;
import tools.jackson.databind.JsonNode;

/** CKA between the two specialists at each step, on the adaptation and the reference data. */
@Component
class CkaVsStepPlot implements JobPlot {

    @Override
    public String jobType() {
        return "sweep";
    }

    @Override
    public String name() {
        return "cka-vs-step";
    }

    @Override
    public Figure draw(JobView job) {
        JsonNode rows = job.result().path("rows");
        double[] steps = JobPlot.column(rows, "step");
        return new LinePlot("CKA between the specialists along fine-tuning", "step", "CKA", List.of(
                new LinePlot.Series("adaptation data", steps, JobPlot.column(rows, "cka_adaptation"),
                        LinePlot.Mark.LINE_AND_POINTS),
                new LinePlot.Series("reference data", steps, JobPlot.column(rows, "cka_reference"),
                        LinePlot.Mark.LINE_AND_POINTS)),
                List.of(new LinePlot.Marker(job.result().path("critical_step").asDouble(), "critical step")));
    }
}
