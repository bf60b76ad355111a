package dev.consort.dataset;

import java.util.List;
import java.util.Optional;
import java.util.UUID;

import jakarta.persistence.LockModeType;

import org.springframework.data.domain.Limit;
import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.Lock;
import org.springframework.data.jpa.repository.Query;

interface DatasetRepository extends JpaRepository<Dataset, UUID> {

    /** The newest datasets first (ids are time-ordered). */
    List<Dataset> findAllByOrderByIdDesc(Limit limit);

    /** The page after cursor {@code after}: older datasets, newest first. */
    List<Dataset> findByIdLessThanOrderByIdDesc(UUID after, Limit limit);

    /** One tenant's newest datasets first. */
    List<Dataset> findByTenantOrderByIdDesc(String tenant, Limit limit);

    /** One tenant's page after cursor {@code after}. */
    List<Dataset> findByTenantAndIdLessThanOrderByIdDesc(String tenant, UUID after, Limit limit);

    /** Locks the row so no job can take the dataset as input while it is being deleted. */
    @Lock(LockModeType.PESSIMISTIC_WRITE)
    @Query("select d from Dataset d where d.id = :id")
    Optional<Dataset> findForUpdate(UUID id);
}
