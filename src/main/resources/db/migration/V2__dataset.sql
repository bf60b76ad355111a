-- What an upload was made from, so a dataset can be told apart and reproduced.
alter table dataset
    add column txt_mode             varchar(16),
    add column file_name            text,
    add column validation_file_name text,
    add constraint dataset_format_known check (format in ('txt', 'jsonl', 'json')),
    add constraint dataset_txt_mode_known check (txt_mode in ('records', 'whole'));
