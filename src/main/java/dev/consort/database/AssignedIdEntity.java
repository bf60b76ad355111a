package dev.consort.database;

import java.util.UUID;

import jakarta.persistence.Id;
import jakarta.persistence.MappedSuperclass;
import jakarta.persistence.PostLoad;
import jakarta.persistence.PostPersist;
import jakarta.persistence.Transient;

import org.springframework.data.domain.Persistable;

/**
 * An entity whose id is assigned by us (a UUIDv7) before it is saved. {@link Persistable#isNew()}
 * tells Spring Data to insert such an entity rather than look it up and merge it.
 */
@MappedSuperclass
public abstract class AssignedIdEntity implements Persistable<UUID> {

    @Id
    private UUID id;

    @Transient
    private boolean isNew;

    /** For JPA. */
    protected AssignedIdEntity() {}

    protected AssignedIdEntity(UUID id) {
        this.id = id;
        this.isNew = true;
    }

    @PostLoad
    @PostPersist
    void markStored() {
        isNew = false;
    }

    @Override
    public UUID getId() {
        return id;
    }

    @Override
    public boolean isNew() {
        return isNew;
    }
}
