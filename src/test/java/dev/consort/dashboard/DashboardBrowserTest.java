package dev.consort.dashboard;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.Select;

import dev.consort.support.ApiTest;
import dev.consort.support.HeadlessChromium;
import dev.consort.support.Multipart;
import dev.consort.support.TinyGpt2;
import tools.jackson.databind.JsonNode;

/**
 * The dashboard end to end, in headless Chromium against the running service: jobs launched from the
 * page's form are followed live (the progress bar fills and the state turns to succeeded through the
 * event stream, without a reload), and their loss plot, merge table, CKA heatmap, sweep plots, compatibility
 * verdict and the checkpoint lineage appear. Screenshots land in target/dashboard-screenshots/.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DashboardBrowserTest extends ApiTest {

    /** Generous: four helpers share two cores. These bound a failure; nothing here is timed. */
    private static final Duration JOB_TIMEOUT = Duration.ofMinutes(8);
    private static final Duration PAGE_TIMEOUT = Duration.ofMinutes(2);

    /** A name that would run script if the page ever parsed names as HTML. */
    private static final String MARKUP_NAME = "<img src=x onerror=\"window.consortInjected=1\"><b>notes</b>";

    private HeadlessChromium chromium;
    private WebDriver page;
    private String base;
    private String mathJob;
    private String mathDataset;
    private String codeDataset;

    @BeforeAll
    void uploadAndStartTheBrowser() {
        if (!HeadlessChromium.installed()) {
            return; // each test reports the skip (or, where required, the failure)
        }
        TinyGpt2 tiny = new TinyGpt2().vocab(50257).seed(81);
        tiny.nEmbd = 16;
        tiny.nPositions = 32;
        HttpResponse<String> checkpoint = post("/checkpoints", new Multipart()
                .file("config", "config.json", tiny.config()).file("weights", "model.safetensors", tiny.weights())
                .field("name", "dashboard-base"));
        assertThat(checkpoint.statusCode()).as(checkpoint.body()).isEqualTo(201);
        base = json(checkpoint).path("id").asText();
        // Oldest of the three datasets, so the templates pick the other two.
        HttpResponse<String> markup = post("/datasets", new Multipart()
                .file("file", "notes.txt", "Plain notes.\n\nMore notes.\n".getBytes(StandardCharsets.UTF_8))
                .field("name", MARKUP_NAME));
        assertThat(markup.statusCode()).as(markup.body()).isEqualTo(201);
        mathDataset = dataset("math.txt", "Seven times eight is fifty six. Nine plus four is thirteen.");
        // The math specialist trains through the API while the page launches the code one.
        HttpResponse<String> math = postJson("/jobs", """
                {"type": "finetune", "name": "math-specialist", "spec": {"base_checkpoint_id": "%s", "dataset_id": "%s",
                  "trainable": "mlp", "training": {"steps": 20, "batch_size": 4, "context": 32, "learning_rate": 0.001}}}"""
                .formatted(base, mathDataset));
        assertThat(math.statusCode()).as(math.body()).isEqualTo(201);
        mathJob = json(math).path("id").asText();
        codeDataset = dataset("code.txt", "def add(x, y): return x + y. print(add(2, 3)).");
        chromium = HeadlessChromium.start();
        page = chromium.driver();
    }

    private String dataset(String file, String sentence) {
        String text = (sentence + "\n\n").repeat(40);
        HttpResponse<String> response = post("/datasets", new Multipart()
                .file("file", file, text.getBytes(StandardCharsets.UTF_8)).field("val_fraction", "0.2"));
        assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
        return json(response).path("id").asText();
    }

    @BeforeEach
    void needsChromium() {
        HeadlessChromium.assumeInstalled();
    }

    @AfterAll
    void closeTheBrowser() {
        if (chromium != null) {
            chromium.close();
        }
    }

    @Test
    void launchFollowAndInspectJobsFromThePage() {
        page.get("http://localhost:" + port + "/");
        visible(By.id("jobs-table"));
        // Marks this document: if anything reloaded the page, the mark would be gone.
        chromium.script("window.consortNoReload = true");

        String finetune = launch("finetune", "code-specialist", spec -> {
            assertThat(spec).contains(base).contains(codeDataset).contains("\"trainable\": \"mlp\"");
            return spec;
        });
        // A picture of the bar part-way, when the page is caught in the act (a screenshot, not a check).
        By bar = By.cssSelector("#jobs-table tr[data-job-id='" + finetune + "'] [role='progressbar']");
        chromium.waitUpTo(JOB_TIMEOUT).until(d -> {
            String percent = d.findElements(bar).isEmpty() ? null : d.findElement(bar).getAttribute("aria-valuenow");
            if (percent != null && !percent.equals("0") && !percent.equals("100")) {
                chromium.screenshot("jobs-running");
                return true;
            }
            return "100".equals(percent);
        });
        WebElement row = awaitSucceededInTheList(finetune);
        assertThat(row.findElement(By.cssSelector(".job-link")).getText()).isEqualTo("code-specialist");
        chromium.screenshot("jobs");

        row.findElement(By.cssSelector(".job-link")).click();
        visible(By.id("events-table"));
        assertImageLoaded("loss-plot");
        chromium.waitUpTo(PAGE_TIMEOUT).until(d -> !d.findElements(By.cssSelector("#outputs-table tbody tr")).isEmpty());
        assertThat(page.findElement(By.id("job-status")).getText()).isEqualTo("succeeded");
        assertThat(page.findElements(By.cssSelector("#events-table tr[data-kind='succeeded']"))).hasSize(1);
        chromium.screenshot("finetune-job");

        // Polled through the API: this is not what the page shows.
        awaitSuccess(mathJob, JOB_TIMEOUT);
        String merge = launch("merge", "specialists-merged", spec -> {
            JsonNode parsed = JSON.readTree(spec);
            assertThat(parsed.path("base_checkpoint_id").asText()).isEqualTo(base);
            assertThat(parsed.path("expert_ids")).hasSize(2);
            return spec;
        });
        awaitSucceededInTheList(merge).findElement(By.cssSelector(".job-link")).click();
        visible(By.id("results-table"));
        List<String> methods = page.findElements(By.cssSelector("#results-table tbody th")).stream()
                .map(e -> e.getText().lines().findFirst().orElse("")).toList();
        assertThat(methods).containsExactly("base", "expert 0", "expert 1", "linear", "task_arithmetic", "ties");
        assertThat(page.findElements(By.cssSelector("#results-table td.best"))).isNotEmpty();
        chromium.screenshot("merge-job");

        String cka = launch("cka", "specialists-cka", spec -> spec);
        awaitSucceededInTheList(cka).findElement(By.cssSelector(".job-link")).click();
        assertImageLoaded("cka-heatmap");
        chromium.screenshot("cka-job");

        String sweep = launch("sweep", "specialists-sweep", spec -> {
            assertThat(spec).doesNotContain("<finetune job id>");
            return spec;
        });
        awaitSucceededInTheList(sweep).findElement(By.cssSelector(".job-link")).click();
        assertImageLoaded("sweep-step-plot");
        assertImageLoaded("sweep-cka-plot");
        assertThat(visible(By.id("results-table")).getText()).contains("merge_loss");
        assertThat(page.findElement(By.id("sweep-turns")).getText()).contains("Expert A: own loss lowest at step");
        chromium.screenshot("sweep-job");

        // The compatibility model is fitted on sweeps with three steps or more: two more specialists, with a checkpoint
        // every 5 steps, and their sweep, through the API.
        String sweepA = specialistWithCheckpoints(mathDataset);
        String sweepB = specialistWithCheckpoints(codeDataset);
        HttpResponse<String> fitting = postJson("/jobs", """
                {"type": "sweep", "spec": {"finetune_job_a_id": "%s", "finetune_job_b_id": "%s",
                  "adaptation_dataset_id": "%s", "reference_dataset_id": "%s"}}"""
                .formatted(sweepA, sweepB, codeDataset, mathDataset));
        assertThat(fitting.statusCode()).as(fitting.body()).isEqualTo(201);
        awaitSuccess(json(fitting).path("id").asText(), JOB_TIMEOUT);
        String compatibility = launch("compatibility", "specialists-compatibility", spec -> spec);
        awaitSucceededInTheList(compatibility).findElement(By.cssSelector(".job-link")).click();
        String recommendation = visible(By.id("compatibility-recommendation")).getText();
        assertThat(List.of("merge", "fine-tune instead", "measure")).anySatisfy(r -> assertThat(recommendation).startsWith(r));
        assertThat(page.findElement(By.cssSelector("section[aria-labelledby='compatibility-heading']")).getText())
                .containsIgnoringCase("predicted gain over the better expert").containsIgnoringCase("held-out Spearman");
        chromium.screenshot("compatibility-job");

        page.findElement(By.cssSelector("nav a[data-nav='checkpoints']")).click();
        visible(By.id("lineage"));
        // base → the two specialists → the three weight-space merges, each merged from both specialists.
        String mathSpecialist = producedCheckpoint(mathJob);
        String codeSpecialist = producedCheckpoint(finetune);
        List<String> merged = new java.util.ArrayList<>();
        json(get("/jobs/" + merge)).path("result").path("outputs").forEach(o -> merged.add(o.path("checkpoint_id").asText()));
        assertThat(merged).hasSize(3);
        assertNode(base, "node-upload");
        for (String specialist : List.of(mathSpecialist, codeSpecialist)) {
            assertNode(specialist, "node-trained");
            assertEdge(base, specialist, "edge-trained");
            for (String output : merged) {
                assertEdge(specialist, output, "edge-merged");
            }
        }
        merged.forEach(output -> assertNode(output, "node-merge"));
        for (String id : List.of(base, mathSpecialist, codeSpecialist, merged.get(0))) {
            assertThat(page.findElements(By.cssSelector("#checkpoints-table tbody tr[data-id='" + id + "']"))).hasSize(1);
        }
        Path lineage = chromium.screenshot("checkpoints");
        assertThat(lineage).exists();

        page.findElement(By.cssSelector("nav a[data-nav='datasets']")).click();
        visible(By.id("datasets-table"));
        assertThat(page.findElements(By.cssSelector("#datasets-table tbody tr"))).hasSizeGreaterThanOrEqualTo(3);
        assertThat(page.findElement(By.id("datasets-table")).getText()).contains(MARKUP_NAME);
        assertThat(page.findElements(By.cssSelector("#datasets-table img, #datasets-table b"))).isEmpty();
        assertThat(chromium.script("return window.consortInjected === undefined")).isEqualTo(true);

        assertThat(chromium.script("return window.consortNoReload === true")).isEqualTo(true);
        assertThat(chromium.scriptErrors()).isEmpty();
    }

    @Test
    void aBadSpecIsRefusedOnThePageNamingTheField() {
        page.get("http://localhost:" + port + "/#/launch");
        visible(By.id("launch-form"));
        new Select(page.findElement(By.id("job-type"))).selectByValue("finetune");
        setSpec("{\"base_checkpoint_id\": \"" + base + "\", \"dataset_id\": \"" + codeDataset + "\", \"training\": {}}");
        page.findElement(By.id("launch-submit")).click();
        WebElement errors = visible(By.cssSelector("#launch-errors .error"));
        assertThat(errors.getText()).contains("422").contains("training.steps");
        chromium.screenshot("launch-refused");
        assertThat(page.getCurrentUrl()).endsWith("#/launch");

        setSpec("{not json");
        page.findElement(By.id("launch-submit")).click();
        chromium.waitUpTo(PAGE_TIMEOUT).until(d -> d.findElement(By.id("launch-errors")).getText().contains("not valid JSON"));
    }

    /** A 20-step MLP specialist of the base with a checkpoint every 5 steps, trained through the API; its job id. */
    private String specialistWithCheckpoints(String dataset) {
        HttpResponse<String> created = postJson("/jobs", """
                {"type": "finetune", "spec": {"base_checkpoint_id": "%s", "dataset_id": "%s", "trainable": "mlp",
                  "training": {"steps": 20, "batch_size": 4, "context": 32, "learning_rate": 0.001,
                               "checkpoint_every": 5, "eval_windows": 4}}}""".formatted(base, dataset));
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String id = json(created).path("id").asText();
        awaitSuccess(id, JOB_TIMEOUT);
        return id;
    }

    /** Fills the launch form for {@code type}, lets {@code edit} check or change the template, submits. */
    private String launch(String type, String name, java.util.function.UnaryOperator<String> edit) {
        page.findElement(By.cssSelector("nav a[data-nav='launch']")).click();
        visible(By.id("launch-form"));
        new Select(page.findElement(By.id("job-type"))).selectByValue(type);
        WebElement spec = page.findElement(By.id("job-spec"));
        String template = spec.getAttribute("value");
        String edited = edit.apply(template);
        if (!edited.equals(template)) {
            setSpec(edited);
        }
        page.findElement(By.id("job-name")).sendKeys(name);
        if (type.equals("finetune")) {
            chromium.screenshot("launch");
        }
        page.findElement(By.id("launch-submit")).click();
        try {
            chromium.waitUpTo(PAGE_TIMEOUT).until(d -> {
                List<WebElement> refused = d.findElements(By.cssSelector("#launch-errors .error"));
                if (!refused.isEmpty()) {
                    throw new AssertionError("the page did not launch the " + type + " job: " + refused.get(0).getText());
                }
                return d.getCurrentUrl().contains("#/jobs?launched=");
            });
        } catch (AssertionError | org.openqa.selenium.TimeoutException e) {
            chromium.screenshot("launch-" + type + "-failed");
            throw new AssertionError(e.getMessage() + "; the page at " + page.getCurrentUrl() + " shows: "
                    + page.findElement(By.tagName("main")).getText(), e);
        }
        String url = page.getCurrentUrl();
        return url.substring(url.indexOf("launched=") + "launched=".length());
    }

    private void setSpec(String text) {
        chromium.script("const spec = document.getElementById('job-spec'); spec.value = arguments[0];"
                + "spec.dispatchEvent(new Event('input'));", text);
    }

    /** Waits, on the jobs list as it is (no reload), until the job's bar is full and its state succeeded. */
    private WebElement awaitSucceededInTheList(String jobId) {
        By row = By.cssSelector("#jobs-table tr[data-job-id='" + jobId + "']");
        visible(row);
        chromium.waitUpTo(JOB_TIMEOUT).until(d -> {
            WebElement r = d.findElement(row);
            String state = r.findElement(By.cssSelector(".state .badge")).getText();
            if (state.equals("failed") || state.equals("cancelled")) {
                throw new AssertionError("job " + jobId + " " + state + ": " + get("/jobs/" + jobId).body());
            }
            return state.equals("succeeded")
                    && "100".equals(r.findElement(By.cssSelector("[role='progressbar']")).getAttribute("aria-valuenow"));
        });
        WebElement found = page.findElement(row);
        assertThat(found.findElement(By.cssSelector(".progress-text")).getText()).startsWith("100 %");
        return found;
    }

    private String producedCheckpoint(String jobId) {
        return json(get("/jobs/" + jobId)).path("result").path("checkpoints").get(0).path("checkpoint_id").asText();
    }

    private void assertNode(String id, String kind) {
        WebElement node = page.findElement(By.cssSelector("#lineage .node[data-id='" + id + "']"));
        assertThat(node.getAttribute("class")).contains(kind);
    }

    private void assertEdge(String from, String to, String style) {
        List<WebElement> edges = page.findElements(By.cssSelector(
                "#lineage path.edge[data-from='" + from + "'][data-to='" + to + "']"));
        assertThat(edges).as(from + " → " + to).hasSize(1);
        assertThat(edges.get(0).getAttribute("class")).contains(style);
    }

    /**
     * The playground: a prompt typed into the page streams the base's greedy continuation into two panels side by
     * side (the same model twice, so both must agree), and the text is exactly what the API answers unstreamed.
     */
    @Test
    void typeAPromptAndReadTwoModelsContinueIt() {
        JsonNode answer = json(postJson("/checkpoints/" + base + "/completions",
                "{\"prompt\": \"Seven times\", \"max_tokens\": 8, \"temperature\": 0}")).path("choices").get(0);

        // From the checkpoint list's "Try it" link, then the same model again on the right.
        page.get("http://localhost:" + port + "/#/checkpoints");
        visible(By.cssSelector("#checkpoints-table tr[data-id='" + base + "'] a.try-link")).click();
        new Select(visible(By.id("model-b"))).selectByValue("checkpoints/" + base);
        assertThat(new Select(page.findElement(By.id("model-a"))).getFirstSelectedOption().getAttribute("value"))
                .isEqualTo("checkpoints/" + base);
        WebElement prompt = visible(By.id("prompt"));
        prompt.clear();
        prompt.sendKeys("Seven times");
        for (String[] field : new String[][] {{"max-tokens", "8"}, {"temperature", "0"}}) {
            WebElement input = page.findElement(By.id(field[0]));
            input.clear();
            input.sendKeys(field[1]);
        }
        page.findElement(By.id("generate")).click();

        for (String side : List.of("a", "b")) {
            chromium.waitUpTo(PAGE_TIMEOUT).until(d -> chromium.script(
                    "return document.getElementById(arguments[0])?.dataset.finish ?? null", "output-" + side) != null);
            assertThat(chromium.script("return document.getElementById(arguments[0]).dataset.finish", "output-" + side))
                    .isEqualTo(answer.path("finish_reason").asText());
            assertThat(chromium.script("return document.getElementById(arguments[0]).textContent", "output-" + side))
                    .isEqualTo(answer.path("text").asText());
            assertThat(page.findElement(By.id("status-" + side)).getText()).contains("tokens/s");
        }
        chromium.screenshot("playground");
    }

    /**
     * Waits until the image shows a decoded picture. One script reads both the state and the width: the page may
     * redraw the image (a live update) between two calls, and a second read would see the new one still loading.
     */
    private void assertImageLoaded(String id) {
        long width = chromium.waitUpTo(PAGE_TIMEOUT).until(d -> {
            Number loaded = (Number) chromium.script("const img = document.getElementById(arguments[0]);"
                    + "return img !== null && !img.hidden && img.complete ? img.naturalWidth : 0", id);
            return loaded.longValue() > 0 ? loaded.longValue() : null;
        });
        assertThat(width).isPositive();
    }

    private WebElement visible(By locator) {
        return chromium.waitUpTo(PAGE_TIMEOUT).until(d -> {
            List<WebElement> found = d.findElements(locator);
            return !found.isEmpty() && found.get(0).isDisplayed() ? found.get(0) : null;
        });
    }
}
