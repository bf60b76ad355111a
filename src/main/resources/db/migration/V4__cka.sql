-- CKA matrices of a cka job: intra_a, intra_b and inter (A's layers × B's layers), row-major.
create table cka_matrix (
    job_id     uuid               not null references job (id) on delete cascade,
    name       varchar(16)        not null,
    row_count  int                not null,
    col_count  int                not null,
    cells      double precision[] not null,
    primary key (job_id, name),
    constraint cka_matrix_size check (cardinality(cells) = row_count * col_count)
);
