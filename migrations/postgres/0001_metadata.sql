-- Metadata records, event-type registrations and free-form parameters.
--
-- The same shape as the embedded store (migrations/sqlite): both subject types live in the
-- metadata row, point-to-point-only columns null for network elements, so a listing is one scan.
-- Keys and names use the "C" collation: esmond-rs sorts them by byte order, whatever the
-- database's default collation.

create table metadata (
    metadata_id       bigint generated always as identity primary key,
    -- 32 lowercase hex characters, random (uuid4), the public identifier.
    metadata_key      text collate "C" not null unique,
    -- esmond's sha-256 over the posted description; identical posts find the same record, and
    -- the unique constraint makes concurrent identical posts find the same record too.
    checksum          text not null unique,
    subject_type      text not null check (subject_type in ('point-to-point', 'network-element')),
    -- Addresses in canonical text form (IPv6 compressed, lowercase), compared for equality.
    source            text not null,
    destination       text,
    measurement_agent text not null,
    tool_name         text not null,
    input_source      text not null,
    input_destination text,
    created_at        timestamptz not null default now()
);

create index metadata_source on metadata (source);
create index metadata_destination on metadata (destination);
create index metadata_measurement_agent on metadata (measurement_agent);
create index metadata_tool_name on metadata (tool_name);
create index metadata_input_source on metadata (input_source);
create index metadata_input_destination on metadata (input_destination);

-- The base row (summary_type 'base', window 0) of every event type of a record, and one row per
-- declared summary.
create table event_type (
    event_type_id  bigint generated always as identity primary key,
    metadata_id    bigint not null references metadata (metadata_id) on delete cascade,
    event_type     text collate "C" not null,
    -- JSON name: base, aggregation, average or statistics.
    summary_type   text collate "C" not null,
    summary_window bigint not null,
    -- Epoch seconds of the last write to this event type, null until data arrives. Whole seconds,
    -- so that the time=T filter matches rows shown as T (esmond kept microseconds).
    time_updated   bigint,
    unique (metadata_id, event_type, summary_type, summary_window)
);

-- The event-type, summary and time filters of the metadata search.
create index event_type_filter on event_type (event_type, summary_type, summary_window, time_updated);
create index event_type_time_updated on event_type (time_updated);

-- Free-form parameters, keys as posted, values as Python str().
create table parameter (
    metadata_id     bigint not null references metadata (metadata_id) on delete cascade,
    parameter_key   text collate "C" not null,
    parameter_value text not null,
    primary key (metadata_id, parameter_key)
);

-- The free-form parameter filters of the metadata search.
create index parameter_key_value on parameter (parameter_key, parameter_value);
