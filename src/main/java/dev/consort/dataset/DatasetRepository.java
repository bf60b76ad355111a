package dev.consort.dataset;

import java.util.Optional;
import java.util.UUID;

import jakarta.persistence.LockModeType;

import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.Lock;
import org.springframework.data.jpa.repository.Query;

import dev.consort.tenant.TenantScopedRepository;

interface DatasetRepository extends JpaRepository<Dataset, UUID>, TenantScopedRepository<Dataset> {

    /** Locks the row so no job can take the dataset as input while it is being deleted. */
    @Lock(LockModeType.PESSIMISTIC_WRITE)
    @Query("select d from Dataset d where d.id = :id")
    Optional<Dataset> findForUpdate(UUID id);
}
