package dev.consort.merge;

import java.util.List;
import java.util.Optional;
import java.util.UUID;

import jakarta.persistence.LockModeType;

import org.springframework.data.domain.Limit;
import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.Lock;
import org.springframework.data.jpa.repository.Query;

interface RoutedModelRepository extends JpaRepository<StoredRoutedModel, UUID> {

    List<StoredRoutedModel> findAllByOrderByIdDesc(Limit limit);

    List<StoredRoutedModel> findByIdLessThanOrderByIdDesc(UUID after, Limit limit);

    List<StoredRoutedModel> findByTenantOrderByIdDesc(String tenant, Limit limit);

    List<StoredRoutedModel> findByTenantAndIdLessThanOrderByIdDesc(String tenant, UUID after, Limit limit);

    @Lock(LockModeType.PESSIMISTIC_WRITE)
    @Query("select r from StoredRoutedModel r where r.id = :id")
    Optional<StoredRoutedModel> findForUpdate(UUID id);
}
