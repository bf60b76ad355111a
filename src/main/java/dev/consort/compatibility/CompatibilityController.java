package dev.consort.compatibility;

import java.util.List;
import java.util.Map;

import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.consort.tenant.CurrentTenant;
import dev.consort.web.ApiProblem;
import dev.consort.web.ProblemType;
import io.swagger.v3.oas.annotations.Operation;
import io.swagger.v3.oas.annotations.tags.Tag;

@Tag(name = "jobs")
@RestController
class CompatibilityController {

    private final SweepObservations observations;

    CompatibilityController(SweepObservations observations) {
        this.observations = observations;
    }

    @Operation(operationId = "getCompatibilityModel", summary = "How CKA predicts the gain of merging, from the sweeps",
            description = "The line fitted through every step of the tenant's succeeded sweeps of the method (CKA on "
                    + "the adaptation data against the merge's gain over the better expert), and its Spearman rank "
                    + "correlation on sweeps left out of the fit. A compatibility job predicts with it.")
    @GetMapping(path = "/compatibility/model", produces = MediaType.APPLICATION_JSON_VALUE)
    Map<String, Object> model(@RequestParam(defaultValue = "activation_interpolation") String method) {
        List<CompatibilityModel.Observation> seen = observations.of(CurrentTenant.orDefault(), method);
        if (seen.size() < CompatibilityModel.MIN_OBSERVATIONS) {
            throw new ApiProblem(HttpStatus.NOT_FOUND, ProblemType.NOT_FOUND, "No compatibility model for " + method
                    + " yet: " + seen.size() + " sweep steps, " + CompatibilityModel.MIN_OBSERVATIONS + " needed");
        }
        Map<String, Object> model = new java.util.LinkedHashMap<>(CompatibilityModel.fit(seen).toMap());
        model.put("method", method);
        return model;
    }
}
