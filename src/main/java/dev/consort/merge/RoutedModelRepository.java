package dev.consort.merge;

import java.util.List;
import java.util.Optional;
import java.util.UUID;

import jakarta.persistence.LockModeType;

import org.springframework.data.domain.Limit;
import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.Lock;
import org.springframework.data.jpa.repository.Query;

interface RoutedModelRepository extends JpaRepository<RoutedModel, UUID> {

    List<RoutedModel> findAllByOrderByIdDesc(Limit limit);

    List<RoutedModel> findByIdLessThanOrderByIdDesc(UUID after, Limit limit);

    List<RoutedModel> findByTenantOrderByIdDesc(String tenant, Limit limit);

    List<RoutedModel> findByTenantAndIdLessThanOrderByIdDesc(String tenant, UUID after, Limit limit);

    @Lock(LockModeType.PESSIMISTIC_WRITE)
    @Query("select r from RoutedModel r where r.id = :id")
    Optional<RoutedModel> findForUpdate(UUID id);
}
