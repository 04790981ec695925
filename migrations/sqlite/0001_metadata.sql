-- Metadata records: one row per measurement description.
--
-- esmond splits subjects into one table per subject type; here both live in the metadata row,
-- with the point-to-point-only columns null for network elements, so that a listing is one scan.
create table metadata (
    metadata_id       integer primary key,
    -- 32 lowercase hex characters, random (uuid4), the public identifier.
    metadata_key      text    not null unique,
    -- esmond's sha-256 over the posted description; identical posts find the same record.
    checksum          text    not null unique,
    subject_type      text    not null check (subject_type in ('point-to-point', 'network-element')),
    -- Addresses in canonical text form (IPv6 compressed, lowercase), compared for equality.
    source            text    not null,
    destination       text,
    measurement_agent text    not null,
    tool_name         text    not null,
    input_source      text    not null,
    input_destination text,
    created_at        integer not null default (unixepoch())
);

create index metadata_source on metadata (source);
create index metadata_destination on metadata (destination);
create index metadata_measurement_agent on metadata (measurement_agent);
create index metadata_tool_name on metadata (tool_name);

-- Event-type registrations: the base row (summary_type 'base', window 0) of every event type
-- of a record, and one row per declared summary.
create table event_type (
    event_type_id  integer primary key,
    metadata_id    integer not null references metadata (metadata_id) on delete cascade,
    event_type     text    not null,
    -- JSON name: base, aggregation, average or statistics.
    summary_type   text    not null,
    summary_window integer not null,
    -- Epoch seconds of the last write to this event type, null until data arrives.
    time_updated   integer,
    unique (metadata_id, event_type, summary_type, summary_window)
);

-- Serves the event-type, summary and time filters of the metadata search.
create index event_type_filter on event_type (event_type, summary_type, summary_window, time_updated);
create index event_type_time_updated on event_type (time_updated);

-- Free-form parameters of a record, keys as posted, values as Python str().
create table parameter (
    metadata_id     integer not null references metadata (metadata_id) on delete cascade,
    parameter_key   text    not null,
    parameter_value text    not null,
    primary key (metadata_id, parameter_key)
);

-- Serves the free-form parameter filters of the metadata search.
create index parameter_key_value on parameter (parameter_key, parameter_value);
