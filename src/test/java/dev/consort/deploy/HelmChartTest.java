package dev.consort.deploy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.yaml.snakeyaml.Yaml;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonParser;
import com.marcnuri.helm.TemplateCommand;

import io.kubernetes.client.openapi.models.V1ConfigMap;
import io.kubernetes.client.openapi.models.V1Deployment;
import io.kubernetes.client.openapi.models.V1Ingress;
import io.kubernetes.client.openapi.models.V1PersistentVolumeClaim;
import io.kubernetes.client.openapi.models.V1Secret;
import io.kubernetes.client.openapi.models.V1Service;
import io.kubernetes.client.openapi.models.V1ServiceAccount;

/**
 * helm/consort rendered and linted offline by the helm library helm-java bundles, with assertions on
 * what a cluster relies on: the worker's GPUs and placement, probes, secrets referenced and never
 * inlined, and the PVC or S3 blob store.
 */
class HelmChartTest {

    private static final Path CHART = Path.of("helm", "consort");
    private static final String ADMIN_KEY = "admin-key-0123456789-0123456789-0123456789";
    private static final String DB_PASSWORD = "db-password-that-must-not-leak";
    private static final String S3_KEY_ID = "AKIAEXAMPLEKEYID";
    private static final String S3_SECRET = "s3-secret-that-must-not-leak";

    /** The rendered manifests of one release. */
    private record Manifests(List<Map<String, Object>> documents) {

        Map<String, Object> find(String kind, String nameSuffix) {
            return documents.stream()
                    .filter(d -> kind.equals(d.get("kind")))
                    .filter(d -> String.valueOf(map(d, "metadata").get("name")).endsWith(nameSuffix))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no " + kind + " named *" + nameSuffix + " in " + kinds()));
        }

        boolean has(String kind) {
            return documents.stream().anyMatch(d -> kind.equals(d.get("kind")));
        }

        List<String> kinds() {
            return documents.stream().map(d -> d.get("kind") + "/" + map(d, "metadata").get("name")).toList();
        }

        Map<String, Object> container(String deploymentSuffix) {
            Map<String, Object> pod = map(map(find("Deployment", deploymentSuffix), "spec"), "template");
            return list(map(pod, "spec"), "containers").get(0);
        }

        Map<String, Object> podSpec(String deploymentSuffix) {
            return map(map(map(find("Deployment", deploymentSuffix), "spec"), "template"), "spec");
        }
    }

    private static Manifests render(UnaryOperator<TemplateCommand> values) {
        TemplateCommand command = new Helm(CHART).template().withName("consort").withNamespace("ml")
                .withKubeVersion("1.31.0");
        String yaml = values.apply(command).call();
        List<Map<String, Object>> documents = new ArrayList<>();
        for (Object document : new Yaml().loadAll(yaml)) {
            if (document != null) {
                documents.add(cast(document));
            }
        }
        return new Manifests(documents);
    }

    private static TemplateCommand withSecrets(TemplateCommand command) {
        return command.set("auth.adminKey", ADMIN_KEY).set("database.password", DB_PASSWORD);
    }

    private static TemplateCommand withS3(TemplateCommand command) {
        return withSecrets(command)
                .set("blobs.store", "s3")
                .set("blobs.s3.bucket", "consort-blobs")
                .set("blobs.s3.endpoint", "http://minio.storage:9000")
                .set("blobs.s3.pathStyle", "true")
                .set("blobs.s3.accessKeyId", S3_KEY_ID)
                .set("blobs.s3.secretAccessKey", S3_SECRET);
    }

    /**
     * helm lint takes no values here, so each ci/*-values.yaml is merged over values.yaml in a copy of the
     * chart and that copy is linted (the chart-testing convention for charts with required values).
     */
    @ParameterizedTest
    @ValueSource(strings = {"pvc-values.yaml", "s3-values.yaml"})
    void theChartLintsCleanlyWithItsCiValues(String ciValues, @TempDir Path temp) throws IOException {
        Path chart = temp.resolve("consort");
        try (Stream<Path> files = Files.walk(CHART)) {
            for (Path file : files.toList()) {
                Path target = chart.resolve(CHART.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(file, target);
                }
            }
        }
        Yaml yaml = new Yaml();
        Map<String, Object> values = cast(yaml.load(Files.readString(CHART.resolve("values.yaml"))));
        deepMerge(values, cast(yaml.load(Files.readString(CHART.resolve("ci").resolve(ciValues)))));
        Files.writeString(chart.resolve("values.yaml"), yaml.dump(values));

        LintResult lint = new Helm(chart).lint().strict().call();
        assertThat(lint.isFailed()).as(String.join("\n", lint.getMessages())).isFalse();
    }

    /** A kind's check: throws when a manifest is not valid for it. */
    @FunctionalInterface
    private interface Schema {
        void validate(JsonElement manifest) throws IOException;
    }

    /** The Kubernetes API's schema for each kind the chart renders, as its generated models check it. */
    private static final Map<String, Schema> SCHEMAS = Map.of(
            "apps/v1/Deployment", V1Deployment::validateJsonElement,
            "v1/Service", V1Service::validateJsonElement,
            "v1/ConfigMap", V1ConfigMap::validateJsonElement,
            "v1/Secret", V1Secret::validateJsonElement,
            "v1/PersistentVolumeClaim", V1PersistentVolumeClaim::validateJsonElement,
            "v1/ServiceAccount", V1ServiceAccount::validateJsonElement,
            "networking.k8s.io/v1/Ingress", V1Ingress::validateJsonElement);

    /**
     * Every manifest of the chart, rendered with the image CI builds ({@code consort:latest}) and each CI values file,
     * (the worker with its GPU, as by default), is valid against the Kubernetes API's schema (its OpenAPI document, as the official Java
     * client's models are generated from it): no field the API does not know, every required field, every nested
     * type. A kind without a schema here fails, so a new template cannot go unchecked.
     */
    @ParameterizedTest
    @ValueSource(strings = {"pvc-values.yaml", "s3-values.yaml"})
    void everyRenderedManifestIsValidAgainstTheKubernetesSchemas(String ciValues) {
        Manifests manifests = render(c -> c.withValuesFile(CHART.resolve("ci").resolve(ciValues))
                .set("image.repository", "consort").set("image.tag", "latest"));
        assertThat(manifests.documents()).isNotEmpty();
        Gson gson = new Gson();
        for (Map<String, Object> document : manifests.documents()) {
            String kind = document.get("apiVersion") + "/" + document.get("kind");
            assertThat(SCHEMAS).as("a schema for " + kind).containsKey(kind);
            JsonElement json = JsonParser.parseString(gson.toJson(document));
            try {
                SCHEMAS.get(kind).validate(json);
            } catch (IOException | RuntimeException e) {
                throw new AssertionError(kind + " " + map(document, "metadata").get("name") + ": " + e.getMessage(), e);
            }
        }
        Map<String, Object> api = manifests.find("Deployment", "consort-api");
        assertThat(list(map(map(map(api, "spec"), "template"), "spec"), "containers").get(0))
                .containsEntry("image", "consort:latest");
        // The check is real: the same Deployment with a misspelt field is refused.
        JsonElement misspelt = JsonParser.parseString(gson.toJson(api));
        misspelt.getAsJsonObject().getAsJsonObject("spec").addProperty("replica", 2);
        assertThatThrownBy(() -> SCHEMAS.get("apps/v1/Deployment").validate(misspelt)).hasMessageContaining("replica");
    }

    @Test
    void withoutAnAdminKeyTheChartRefusesToRender() {
        assertThatThrownBy(() -> render(UnaryOperator.identity())).hasMessageContaining("auth.adminKey");
    }

    @Test
    void theWorkerGetsItsGpusDevicesAndPlacement() {
        Manifests manifests = render(HelmChartTest::withSecrets);

        Map<String, Object> worker = manifests.container("-worker");
        assertThat(map(map(worker, "resources"), "limits")).containsEntry("nvidia.com/gpu", 1);
        assertThat(env(worker)).anySatisfy(e -> {
            assertThat(e.get("name")).isEqualTo("CONSORT_WORKER_DEVICES");
            assertThat(e.get("value")).isEqualTo("gpu:0");
        });
        assertThat(env(worker)).anySatisfy(e -> {
            assertThat(e.get("name")).isEqualTo("CONSORT_ROLE");
            assertThat(e.get("value")).isEqualTo("worker");
        });
        Map<String, Object> workerPod = manifests.podSpec("-worker");
        assertThat(map(workerPod, "nodeSelector")).containsEntry("nvidia.com/gpu.present", "true");
        assertThat(list(workerPod, "tolerations")).singleElement().satisfies(t -> {
            assertThat(t).containsEntry("key", "nvidia.com/gpu").containsEntry("effect", "NoSchedule");
        });

        // The API needs no GPU and runs no jobs.
        Map<String, Object> api = manifests.container("-api");
        assertThat(map(map(api, "resources"), "limits")).doesNotContainKey("nvidia.com/gpu");
        assertThat(env(api)).anySatisfy(e -> {
            assertThat(e.get("name")).isEqualTo("CONSORT_ROLE");
            assertThat(e.get("value")).isEqualTo("api");
        });
        assertThat(manifests.podSpec("-api")).doesNotContainKey("nodeSelector");
    }

    @Test
    void gpuCountNodeSelectorAndTolerationsComeFromValues() {
        Manifests manifests = render(c -> withSecrets(c)
                .set("worker.gpus", "2")
                .set("worker.devices", "gpu:0,gpu:1")
                .set("worker.nodeSelector.accelerator", "h100")
                .set("worker.tolerations[0].key", "dedicated")
                .set("worker.tolerations[0].operator", "Equal")
                .set("worker.tolerations[0].value", "ml")
                .set("worker.tolerations[0].effect", "NoExecute"));
        Map<String, Object> worker = manifests.container("-worker");
        assertThat(map(map(worker, "resources"), "limits")).containsEntry("nvidia.com/gpu", 2)
                .containsEntry("memory", "32Gi");
        assertThat(map(manifests.podSpec("-worker"), "nodeSelector")).containsEntry("accelerator", "h100");
        assertThat(list(manifests.podSpec("-worker"), "tolerations")).singleElement()
                .satisfies(t -> assertThat(t).containsEntry("key", "dedicated").containsEntry("value", "ml"));

        Manifests cpuWorkers = render(c -> withSecrets(c).set("worker.gpus", "0").set("worker.devices", "cpu"));
        assertThat(map(map(cpuWorkers.container("-worker"), "resources"), "limits")).doesNotContainKey("nvidia.com/gpu");
    }

    @Test
    void bothDeploymentsProbeLivenessAndReadinessOnTheManagementPort() {
        Manifests manifests = render(HelmChartTest::withSecrets);
        for (String deployment : List.of("-api", "-worker")) {
            Map<String, Object> container = manifests.container(deployment);
            assertThat(map(map(container, "livenessProbe"), "httpGet"))
                    .containsEntry("path", "/actuator/health/liveness").containsEntry("port", "management");
            assertThat(map(map(container, "readinessProbe"), "httpGet"))
                    .containsEntry("path", "/actuator/health/readiness").containsEntry("port", "management");
            assertThat(list(container, "ports")).anySatisfy(p -> assertThat(p)
                    .containsEntry("name", "management").containsEntry("containerPort", 8081));
        }
        assertThat(map(manifests.find("ConfigMap", "consort"), "data")).containsEntry("MANAGEMENT_SERVER_PORT", "8081");
    }

    @Test
    void secretsAreReferencedBySecretKeyRefAndNeverInlined() {
        Manifests manifests = render(HelmChartTest::withS3);
        String secretName = String.valueOf(map(manifests.find("Secret", "consort"), "metadata").get("name"));

        for (String deployment : List.of("-api", "-worker")) {
            List<Map<String, Object>> env = env(manifests.container(deployment));
            for (String name : List.of("CONSORT_ADMIN_KEY", "SPRING_DATASOURCE_PASSWORD", "AWS_ACCESS_KEY_ID",
                    "AWS_SECRET_ACCESS_KEY")) {
                Map<String, Object> variable = env.stream().filter(e -> name.equals(e.get("name"))).findFirst()
                        .orElseThrow(() -> new AssertionError(name + " missing in " + deployment));
                assertThat(variable).as(name).doesNotContainKey("value");
                assertThat(map(map(variable, "valueFrom"), "secretKeyRef")).containsEntry("name", secretName);
            }
        }
        Map<String, Object> secretData = map(manifests.find("Secret", "consort"), "data");
        assertThat(decoded(secretData, "admin-key")).isEqualTo(ADMIN_KEY);
        assertThat(decoded(secretData, "database-password")).isEqualTo(DB_PASSWORD);
        assertThat(decoded(secretData, "s3-secret-access-key")).isEqualTo(S3_SECRET);

        // Nowhere but in the Secret: not in env values, not in the ConfigMap, not in annotations.
        String everythingButTheSecret = new Yaml().dump(manifests.documents().stream()
                .filter(d -> !"Secret".equals(d.get("kind"))).toList());
        for (String secret : List.of(ADMIN_KEY, DB_PASSWORD, S3_KEY_ID, S3_SECRET)) {
            assertThat(everythingButTheSecret).doesNotContain(secret);
        }
    }

    @Test
    void existingSecretsAreReferencedAndTheChartMakesNoneOfItsOwn() {
        Manifests manifests = render(c -> c
                .set("auth.existingSecret", "ops-consort").set("auth.existingSecretKey", "admin")
                .set("database.existingSecret", "ops-postgres").set("database.existingSecretKey", "pw"));
        assertThat(manifests.has("Secret")).isFalse();
        List<Map<String, Object>> env = env(manifests.container("-api"));
        assertThat(secretRef(env, "CONSORT_ADMIN_KEY")).containsEntry("name", "ops-consort").containsEntry("key", "admin");
        assertThat(secretRef(env, "SPRING_DATASOURCE_PASSWORD")).containsEntry("name", "ops-postgres")
                .containsEntry("key", "pw");
    }

    @Test
    void thePvcStoreMountsOneReadWriteManyClaimEverywhere() {
        Manifests manifests = render(HelmChartTest::withSecrets);
        Map<String, Object> pvc = manifests.find("PersistentVolumeClaim", "-blobs");
        assertThat(map(pvc, "spec").get("accessModes")).isEqualTo(List.of("ReadWriteMany"));
        String claim = String.valueOf(map(pvc, "metadata").get("name"));
        for (String deployment : List.of("-api", "-worker")) {
            assertThat(list(manifests.podSpec(deployment), "volumes")).singleElement().satisfies(v ->
                    assertThat(map(v, "persistentVolumeClaim")).containsEntry("claimName", claim));
            assertThat(env(manifests.container(deployment))).noneSatisfy(e ->
                    assertThat(e.get("name")).isEqualTo("AWS_ACCESS_KEY_ID"));
        }
        Map<String, Object> config = map(manifests.find("ConfigMap", "consort"), "data");
        assertThat(config).containsEntry("CONSORT_BLOBS_STORE", "pvc").containsEntry("CONSORT_DATA_DIR", "/data")
                .doesNotContainKey("CONSORT_BLOBS_S3_BUCKET");
    }

    @Test
    void theS3StoreUsesTheBucketAndScratchSpaceInsteadOfAClaim() {
        Manifests manifests = render(HelmChartTest::withS3);
        assertThat(manifests.has("PersistentVolumeClaim")).isFalse();
        for (String deployment : List.of("-api", "-worker")) {
            assertThat(list(manifests.podSpec(deployment), "volumes")).singleElement().satisfies(v ->
                    assertThat(v).containsKey("emptyDir").doesNotContainKey("persistentVolumeClaim"));
        }
        assertThat(map(manifests.find("ConfigMap", "consort"), "data"))
                .containsEntry("CONSORT_BLOBS_STORE", "s3")
                .containsEntry("CONSORT_BLOBS_S3_BUCKET", "consort-blobs")
                .containsEntry("CONSORT_BLOBS_S3_ENDPOINT", "http://minio.storage:9000")
                .containsEntry("CONSORT_BLOBS_S3_PATH_STYLE", "true");

        // Without static keys the pods use the default AWS chain (IRSA): no credentials env at all.
        Manifests irsa = render(c -> withSecrets(c).set("blobs.store", "s3").set("blobs.s3.bucket", "b")
                .set("serviceAccount.annotations.eks\\.amazonaws\\.com/role-arn", "arn:aws:iam::1:role/consort"));
        assertThat(env(irsa.container("-worker"))).noneSatisfy(e -> assertThat(e.get("name")).isEqualTo("AWS_ACCESS_KEY_ID"));
        assertThat(map(irsa.find("ServiceAccount", "consort"), "metadata")).containsKey("annotations");
    }

    @Test
    void theIngressRoutesToTheApiServiceOnly() {
        Manifests without = render(HelmChartTest::withSecrets);
        assertThat(without.has("Ingress")).isFalse();

        Manifests manifests = render(c -> withSecrets(c).set("ingress.enabled", "true")
                .set("ingress.host", "consort.lab.example").set("ingress.className", "nginx"));
        Map<String, Object> rule = list(map(manifests.find("Ingress", "consort"), "spec"), "rules").get(0);
        assertThat(rule).containsEntry("host", "consort.lab.example");
        Map<String, Object> backend = map(map(list(map(rule, "http"), "paths").get(0), "backend"), "service");
        assertThat(map(backend, "port")).containsEntry("name", "http");
        Map<String, Object> service = manifests.find("Service", "consort");
        assertThat(map(map(service, "spec"), "selector")).containsEntry("app.kubernetes.io/component", "api");
    }

    @Test
    void theSchemaRejectsWhatCannotWork() {
        assertThatThrownBy(() -> render(c -> withSecrets(c).set("blobs.store", "ftp")))
                .hasMessageContaining("/blobs/store");
        assertThatThrownBy(() -> render(c -> withSecrets(c).set("worker.devices", "tpu:0")))
                .hasMessageContaining("/worker/devices");
        assertThatThrownBy(() -> render(c -> withSecrets(c).set("auth.adminKey", "short")))
                .hasMessageContaining("/auth/adminKey");
        assertThatThrownBy(() -> render(c -> withSecrets(c).set("blobs.store", "s3")))
                .hasMessageContaining("blobs.s3.bucket");
    }

    private static void deepMerge(Map<String, Object> into, Map<String, Object> from) {
        from.forEach((key, value) -> {
            if (value instanceof Map<?, ?> && into.get(key) instanceof Map<?, ?>) {
                deepMerge(cast(into.get(key)), cast(value));
            } else {
                into.put(key, value);
            }
        });
    }

    private static List<Map<String, Object>> env(Map<String, Object> container) {
        return list(container, "env");
    }

    private static Map<String, Object> secretRef(List<Map<String, Object>> env, String name) {
        Map<String, Object> variable = env.stream().filter(e -> name.equals(e.get("name"))).findFirst()
                .orElseThrow(() -> new AssertionError(name + " missing"));
        return map(map(variable, "valueFrom"), "secretKeyRef");
    }

    private static String decoded(Map<String, Object> secretData, String key) {
        return new String(Base64.getDecoder().decode(String.valueOf(secretData.get(key))));
    }

    private static Map<String, Object> map(Map<String, Object> parent, String key) {
        Object value = Objects.requireNonNull(parent.get(key), () -> "no " + key + " in " + parent.keySet());
        return cast(value);
    }

    private static List<Map<String, Object>> list(Map<String, Object> parent, String key) {
        Object value = Objects.requireNonNull(parent.get(key), () -> "no " + key + " in " + parent.keySet());
        return cast(value);
    }

    @SuppressWarnings("unchecked")
    private static <T> T cast(Object value) {
        return (T) value;
    }
}
