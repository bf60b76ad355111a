-- Feature-space merges: the experts' MLPs mixed per token by learned routers (or a fixed α). A routed
-- model is its description (JSON), its router weights (a safetensors blob; none for a fixed α) and
-- references to the checkpoints it runs, which therefore cannot be deleted while it exists.
create table routed_model (
    id               uuid         primary key,
    name             varchar(200),
    kind             varchar(64)  not null,
    description_json text         not null,
    router_sha256    char(64),
    router_bytes     bigint,
    shared_checkpoint_id uuid     not null references checkpoint (id),
    producing_job_id uuid         references job (id) on delete set null,
    tenant           varchar(64)  not null default 'default',
    created_at       timestamptz  not null default now()
);

create index routed_model_by_tenant on routed_model (tenant, id);

create table routed_model_expert (
    routed_model_id uuid not null references routed_model (id) on delete cascade,
    position        int  not null,
    checkpoint_id   uuid not null references checkpoint (id),
    primary key (routed_model_id, position)
);
create index routed_model_expert_by_checkpoint on routed_model_expert (checkpoint_id);
