package dev.consort.checkpoint;

import java.util.List;
import java.util.Optional;
import java.util.UUID;

import jakarta.persistence.LockModeType;

import org.springframework.data.domain.Limit;
import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.Lock;
import org.springframework.data.jpa.repository.Query;

interface CheckpointRepository extends JpaRepository<Checkpoint, UUID> {

    /** The newest checkpoints first (UUIDv7 ids sort by creation time). */
    List<Checkpoint> findAllByOrderByIdDesc(Limit limit);

    /** The checkpoints created before {@code after}, newest first. */
    List<Checkpoint> findByIdLessThanOrderByIdDesc(UUID after, Limit limit);

    /** The checkpoint a job saved at a training step, if it did (a resumed job must not save it twice). */
    Optional<Checkpoint> findFirstByProducingJobIdAndStep(UUID producingJobId, Long step);

    List<Checkpoint> findByProducingJobIdOrderByStep(UUID producingJobId);

    /** One tenant's newest checkpoints first. */
    List<Checkpoint> findByTenantOrderByIdDesc(String tenant, Limit limit);

    /** One tenant's checkpoints created before {@code after}, newest first. */
    List<Checkpoint> findByTenantAndIdLessThanOrderByIdDesc(String tenant, UUID after, Limit limit);

    /** Locks the row, so a job cannot start using the checkpoint while it is being deleted. */
    @Lock(LockModeType.PESSIMISTIC_WRITE)
    @Query("select c from Checkpoint c where c.id = :id")
    Optional<Checkpoint> findForUpdate(UUID id);
}
