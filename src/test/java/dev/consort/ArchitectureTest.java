package dev.consort;

import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideInAPackage;
import static com.tngtech.archunit.core.domain.JavaClass.Predicates.resideOutsideOfPackages;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;

/**
 * The packages' dependencies point downward, as ARCHITECTURE.md draws them, and every file that document
 * names exists: the engine and the merge libraries know nothing of the service, the worker runs jobs without
 * knowing HTTP, the job API knows no job type, and no two packages depend on each other.
 */
class ArchitectureTest {

    private static JavaClasses classes;

    @BeforeAll
    static void importMainClasses() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.consort");
        assertThat(classes).as("the main classes").hasSizeGreaterThan(200);
    }

    /** No class of {@code packages} uses a class of ours outside {@code allowed}. */
    private static void onlyOurs(String[] packages, String... allowed) {
        noClasses().that().resideInAnyPackage(packages)
                .should().dependOnClassesThat(resideInAPackage("dev.consort..").and(resideOutsideOfPackages(allowed)))
                .check(classes);
    }

    @Test
    void theEngineAndTheFormatsDependOnNothingAboveThem() {
        onlyOurs(new String[] {"dev.consort.safetensors.."}, "dev.consort.safetensors..");
        onlyOurs(new String[] {"dev.consort.engine.."}, "dev.consort.engine..", "dev.consort.safetensors..");
    }

    @Test
    void theMergeLibrariesDependOnlyOnTheEngine() {
        onlyOurs(new String[] {"dev.consort.merge.weights.."}, "dev.consort.merge.weights..", "dev.consort.engine..",
                "dev.consort.safetensors..");
        onlyOurs(new String[] {"dev.consort.merge.features.."}, "dev.consort.merge.features..",
                "dev.consort.merge.weights..", "dev.consort.engine..", "dev.consort.safetensors..");
    }

    /** The packages of the job types (a handler each). */
    private static final String[] JOB_TYPES = {"dev.consort.training..", "dev.consort.merge..",
            "dev.consort.evaluation..", "dev.consort.cka..", "dev.consort.sweep..", "dev.consort.compatibility.."};

    @Test
    void theWorkerKnowsNoHttpAndNoJobType() {
        noClasses().that().resideInAPackage("dev.consort.worker..")
                .should().dependOnClassesThat().resideInAnyPackage(JOB_TYPES)
                .orShould().dependOnClassesThat().resideInAPackage("dev.consort.web..")
                .check(classes);
    }

    @Test
    void jobTypesUseTheJobInterfacesNotTheWorker() {
        noClasses().that().resideInAnyPackage(JOB_TYPES).or().resideInAPackage("dev.consort.job..")
                .should().dependOnClassesThat().resideInAPackage("dev.consort.worker..")
                .check(classes);
        noClasses().that().resideInAPackage("dev.consort.job..")
                .should().dependOnClassesThat().resideInAnyPackage(JOB_TYPES)
                .orShould().dependOnClassesThat().resideInAnyPackage("dev.consort.checkpoint..", "dev.consort.dataset..")
                .check(classes);
    }

    @Test
    void plotsAndHttpPlumbingStayBelowTheFeatures() {
        onlyOurs(new String[] {"dev.consort.plot.."}, "dev.consort.plot..", "dev.consort.web..");
        onlyOurs(new String[] {"dev.consort.web.."}, "dev.consort.web..", "dev.consort.database..",
                "dev.consort.storage..", "dev.consort");
    }

    @Test
    void noTwoPackagesDependOnEachOther() {
        slices().matching("dev.consort.(*)..").should().beFreeOfCycles().check(classes);
        slices().matching("dev.consort.merge.(*)..").should().beFreeOfCycles().check(classes);
    }

    /** ARCHITECTURE.md's "touch these files" must name files that exist, so that it stays true. */
    @Test
    void everyFileArchitectureMdNamesExists() throws IOException {
        String text = Files.readString(Path.of("ARCHITECTURE.md"));
        Matcher paths = Pattern.compile("`((?:src|helm|scripts|docker)/[^`\\s]+)`").matcher(text);
        List<String> named = new ArrayList<>();
        while (paths.find()) {
            named.add(paths.group(1));
        }
        assertThat(named).as("paths in ARCHITECTURE.md").hasSizeGreaterThan(20);
        for (String path : named) {
            assertThat(Path.of(path)).as("ARCHITECTURE.md names %s", path).exists();
        }
    }
}
