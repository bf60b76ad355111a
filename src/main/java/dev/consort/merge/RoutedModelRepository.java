package dev.consort.merge;

import java.util.Optional;
import java.util.UUID;

import jakarta.persistence.LockModeType;

import org.springframework.data.jpa.repository.JpaRepository;
import org.springframework.data.jpa.repository.Lock;
import org.springframework.data.jpa.repository.Query;

import dev.consort.tenant.TenantScopedRepository;

interface RoutedModelRepository extends JpaRepository<StoredRoutedModel, UUID>, TenantScopedRepository<StoredRoutedModel> {

    @Lock(LockModeType.PESSIMISTIC_WRITE)
    @Query("select r from StoredRoutedModel r where r.id = :id")
    Optional<StoredRoutedModel> findForUpdate(UUID id);
}
