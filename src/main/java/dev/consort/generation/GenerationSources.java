package dev.consort.generation;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import org.springframework.stereotype.Component;

import ai.djl.Device;
import dev.consort.checkpoint.CheckpointModels;
import dev.consort.engine.Gpt2Config;
import dev.consort.engine.Gpt2Model;
import dev.consort.merge.RoutedModelCatalog;
import dev.consort.merge.StoredRoutedModel;
import dev.consort.merge.features.RoutedModel;
import dev.consort.merge.features.RoutedModelDescription;
import dev.consort.storage.BlobStore;

/**
 * Finds what a completion request names, in the caller's tenant (404 otherwise), and loads it: a checkpoint, or a
 * routed model over its base and experts (each leased from {@link LoadedModels}) with its stored routers.
 */
@Component
class GenerationSources {

    /** What a request may generate with. */
    enum Kind {
        CHECKPOINT, ROUTED_MODEL
    }

    /** Loads a found model. */
    @FunctionalInterface
    interface Loader {
        GeneratingModel load() throws Exception;
    }

    /** A model found but not loaded: its architecture (for the request's checks) and how to load it. */
    record Source(Gpt2Config config, Loader loader) {
        GeneratingModel load() throws Exception {
            return loader.load();
        }
    }

    private final CheckpointModels checkpoints;
    private final RoutedModelCatalog routedModels;
    private final LoadedModels models;
    private final BlobStore blobs;

    GenerationSources(CheckpointModels checkpoints, RoutedModelCatalog routedModels, LoadedModels models,
            BlobStore blobs) {
        this.checkpoints = checkpoints;
        this.routedModels = routedModels;
        this.models = models;
        this.blobs = blobs;
    }

    Source find(Kind kind, UUID id) {
        return kind == Kind.CHECKPOINT ? checkpoint(id) : routedModel(id);
    }

    private Source checkpoint(UUID id) {
        return new Source(checkpoints.config(checkpoints.checkpoint(id)), () -> {
            LoadedModels.Lease lease = lease(id);
            return new GeneratingModel(id, lease.model(), null, List.of(lease));
        });
    }

    private Source routedModel(UUID id) {
        StoredRoutedModel stored = routedModels.find(id);
        RoutedModelDescription description = RoutedModelDescription.parse(
                stored.descriptionJson().getBytes(StandardCharsets.UTF_8));
        UUID shared = UUID.fromString(description.baseId() != null ? description.baseId()
                : description.expertIds().get(0));
        return new Source(checkpoints.config(checkpoints.checkpoint(shared)), () -> {
            List<AutoCloseable> held = new ArrayList<>();
            try {
                Gpt2Model base = null;
                if (description.baseId() != null) {
                    base = hold(held, lease(UUID.fromString(description.baseId())));
                }
                List<Gpt2Model> experts = new ArrayList<>();
                for (String expert : description.expertIds()) {
                    experts.add(hold(held, lease(UUID.fromString(expert))));
                }
                Path routers = stored.routerSha256() == null ? null : blobs.localCopy(stored.routerSha256());
                RoutedModel routed = RoutedModel.load(description, routers, base, experts);
                held.add(routed);
                return new GeneratingModel(id, routed.shared(), routed::newPass, List.copyOf(held));
            } catch (Exception | Error e) {
                new GeneratingModel(id, null, null, held).close();
                throw e;
            }
        });
    }

    private static Gpt2Model hold(List<AutoCloseable> held, LoadedModels.Lease lease) {
        held.add(lease);
        return lease.model();
    }

    private LoadedModels.Lease lease(UUID checkpoint) throws Exception {
        return models.lease(checkpoint, () -> checkpoints.load(checkpoint, Device.cpu()));
    }
}
