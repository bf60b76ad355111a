package dev.consort.checkpoint;

import java.util.List;
import java.util.Optional;
import java.util.UUID;

import jakarta.persistence.LockModeType;

import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.Lock;
import org.springframework.data.jpa.repository.Query;

import dev.consort.tenant.TenantScopedRepository;

interface CheckpointRepository extends JpaRepository<Checkpoint, UUID>, TenantScopedRepository<Checkpoint> {

    /** The checkpoint a job saved at a training step, if it did (a resumed job must not save it twice). */
    Optional<Checkpoint> findFirstByProducingJobIdAndStep(UUID producingJobId, Long step);

    List<Checkpoint> findByProducingJobIdOrderByStep(UUID producingJobId);

    /** Locks the row, so a job cannot start using the checkpoint while it is being deleted. */
    @Lock(LockModeType.PESSIMISTIC_WRITE)
    @Query("select c from Checkpoint c where c.id = :id")
    Optional<Checkpoint> findForUpdate(UUID id);
}
