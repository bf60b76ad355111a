-- Content-addressed blobs and who references them. A blob with no reference is garbage.
create table blob (
    sha256      char(64)    primary key,
    size_bytes  bigint      not null,
    created_at  timestamptz not null default now()
);

create table blob_ref (
    sha256      char(64)    not null references blob (sha256),
    owner_kind  varchar(32) not null,
    owner_id    uuid        not null,
    role        varchar(64) not null,
    primary key (owner_kind, owner_id, role)
);
create index blob_ref_sha256 on blob_ref (sha256);

-- Jobs: the table is also the queue (claimed with FOR UPDATE SKIP LOCKED).
create table job (
    id               uuid         primary key,
    type             varchar(32)  not null,
    name             varchar(200),
    status           varchar(16)  not null,
    spec             jsonb        not null,
    device_class     varchar(16)  not null default 'cpu',
    priority         int          not null default 0,
    idempotency_key  varchar(200) unique,
    request_hash     char(64),
    attempts         int          not null default 0,
    max_attempts     int          not null,
    lease_owner      varchar(200),
    lease_expires_at timestamptz,
    cancel_requested boolean      not null default false,
    progress         jsonb,
    result           jsonb,
    error_code       varchar(64),
    error_message    text,
    created_at       timestamptz  not null default now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    updated_at       timestamptz  not null default now(),
    constraint job_status_known check (status in ('queued', 'running', 'cancelling', 'succeeded', 'failed', 'cancelled'))
);
create index job_claimable on job (device_class, priority desc, id) where status = 'queued';
create index job_leased on job (lease_expires_at) where status in ('running', 'cancelling');
create index job_by_type_status on job (type, status, id);

-- What a job reads: a checkpoint or dataset in use by an unfinished job cannot be deleted.
create table job_input (
    job_id     uuid        not null references job (id) on delete cascade,
    input_kind varchar(32) not null,
    input_id   uuid        not null,
    primary key (job_id, input_kind, input_id)
);
create index job_input_by_input on job_input (input_id);

create table job_event (
    id         bigserial    primary key,
    job_id     uuid         not null references job (id) on delete cascade,
    kind       varchar(32)  not null,
    message    text,
    data       jsonb,
    created_at timestamptz  not null default now()
);
create index job_event_by_job on job_event (job_id, id);

-- One point per (job, series, step): a resumed job rewrites a step instead of repeating it.
create table loss_point (
    job_id  uuid             not null references job (id) on delete cascade,
    series  varchar(64)      not null,
    step    bigint           not null,
    tokens  bigint           not null,
    value   double precision not null,
    primary key (job_id, series, step)
);

create table checkpoint (
    id               uuid         primary key,
    name             varchar(200),
    config_json      text         not null,
    n_layer          int          not null,
    n_embd           int          not null,
    n_head           int          not null,
    n_inner          int          not null,
    vocab_size       int          not null,
    n_positions      int          not null,
    parameter_count  bigint       not null,
    dtype            varchar(8)   not null,
    weights_sha256   char(64)     not null,
    weights_bytes    bigint       not null,
    parent_id        uuid         references checkpoint (id) on delete set null,
    producing_job_id uuid         references job (id) on delete set null,
    step             bigint,
    best             boolean      not null default false,
    created_at       timestamptz  not null default now()
);

create table dataset (
    id               uuid         primary key,
    name             varchar(200),
    format           varchar(16)  not null,
    template         text,
    val_fraction     double precision,
    train_records    bigint       not null,
    val_records      bigint       not null,
    train_tokens     bigint       not null,
    val_tokens       bigint       not null,
    train_sha256     char(64)     not null,
    val_sha256       char(64),
    source_bytes     bigint       not null,
    created_at       timestamptz  not null default now()
);
