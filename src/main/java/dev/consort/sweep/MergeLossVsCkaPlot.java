package dev.consort.sweep;

import java.util.List;

import org.springframework.stereotype.Component;

import dev.consort.job.JobPlot;
import dev.consort.job.JobView;
import dev.consort.plot.Figure;
import dev.consort.plot.LinePlot;
import tools.jackson.databind.JsonNode;

/** The merge loss of each step against the specialists' CKA at that step. */
@Component
class MergeLossVsCkaPlot implements JobPlot {

    @Override
    public String jobType() {
        return "sweep";
    }

    @Override
    public String name() {
        return "merge-loss-vs-cka";
    }

    @Override
    public Figure draw(JobView job) {
        JsonNode rows = job.result().path("rows");
        double[] loss = JobPlot.column(rows, "merge_loss");
        return new LinePlot("Merge loss against CKA between the specialists", "CKA", "merge loss (nats)", List.of(
                new LinePlot.Series("adaptation data", JobPlot.column(rows, "cka_adaptation"), loss,
                        LinePlot.Mark.POINTS),
                new LinePlot.Series("reference data", JobPlot.column(rows, "cka_reference"), loss,
                        LinePlot.Mark.POINTS)));
    }
}
