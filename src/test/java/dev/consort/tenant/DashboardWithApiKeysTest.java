package dev.consort.tenant;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;

import dev.consort.support.HeadlessChromium;
import tools.jackson.databind.JsonNode;

/**
 * The dashboard of a service that asks for API keys: its page and assets load without a key, it asks
 * for one, and then sends it with every call, the event stream and the plot images included.
 */
class DashboardWithApiKeysTest extends TenantApiTest {

    private static final Duration TIMEOUT = Duration.ofMinutes(5);

    @Test
    void thePageAndItsAssetsNeedNoKeyButTheApiStillDoes() {
        for (String path : List.of("/", "/index.html", "/assets/app.js", "/assets/api.js", "/assets/views/job.js",
                "/assets/style.css")) {
            assertThat(get(path).statusCode()).as(path).isEqualTo(200);
        }
        assertProblem(get("/jobs"), 401, "unauthorized");
        assertProblem(get("/assets/../jobs"), 400, "bad-request");
        HttpResponse<String> missing = get("/assets/no-such-file.js");
        assertProblem(missing, 404, "not-found");
    }

    @Test
    void theDashboardAsksForAKeyAndFollowsAJobWithIt() {
        String key = createKey("dashboard-tenant").secret();
        HttpResponse<String> created = postJsonAs(key, "/jobs",
                "{\"type\": \"test.count\", \"name\": \"counted\", \"spec\": {\"steps\": 40, \"step_millis\": 50}}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        String jobId = json(created).path("id").asText();

        try (HeadlessChromium chromium = HeadlessChromium.start()) {
            WebDriver page = chromium.driver();
            page.get("http://localhost:" + port + "/");
            WebElement input = visible(chromium, By.id("api-key"));
            input.sendKeys("csk_notAKeyThisServiceEverMade00000000000000");
            page.findElement(By.cssSelector("#key-form button[type='submit']")).click();
            WebElement refused = visible(chromium, By.cssSelector("[role='alert']"));
            assertThat(refused.getText()).contains("refused");

            visible(chromium, By.id("api-key")).sendKeys(key);
            page.findElement(By.cssSelector("#key-form button[type='submit']")).click();
            By row = By.cssSelector("#jobs-table tr[data-job-id='" + jobId + "']");
            visible(chromium, row);
            assertThat(chromium.script("return sessionStorage.getItem('consort.apiKey')")).isEqualTo(key);
            chromium.waitUpTo(TIMEOUT).until(d -> "100".equals(d.findElement(row)
                    .findElement(By.cssSelector("[role='progressbar']")).getAttribute("aria-valuenow"))
                    && d.findElement(row).findElement(By.cssSelector(".state .badge")).getText().equals("succeeded"));

            page.findElement(row).findElement(By.cssSelector(".job-link")).click();
            chromium.waitUpTo(TIMEOUT).until(d -> (Boolean) chromium.script("const img = document.getElementById('loss-plot');"
                    + "return img !== null && !img.hidden && img.complete && img.naturalWidth > 0"));
            assertThat(page.findElements(By.cssSelector("#events-table tr[data-kind='succeeded']"))).hasSize(1);
            assertThat(page.findElement(By.id("key-status")).getText()).contains("…" + key.substring(key.length() - 4));
            chromium.screenshot("job-with-api-key");
            assertThat(chromium.scriptErrors()).isEmpty();
        }
        JsonNode job = json(getAs(key, "/jobs/" + jobId));
        assertThat(job.path("status").asText()).isEqualTo("succeeded");
    }

    private static WebElement visible(HeadlessChromium chromium, By locator) {
        return chromium.waitUpTo(TIMEOUT).until(d -> {
            List<WebElement> found = d.findElements(locator);
            return !found.isEmpty() && found.get(0).isDisplayed() ? found.get(0) : null;
        });
    }
}
