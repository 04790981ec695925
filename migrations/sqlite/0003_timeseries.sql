-- Time series of the embedded store: base points and the summary state of each bin.

-- One row per point of a series (metadata key, event type), whole-second time stamps.
-- Exactly one group of value columns is set, by the event type's data type.
create table base_point (
    metadata_key text    not null,
    event_type   text    not null,
    ts           integer not null,
    -- integer data
    v_int        integer,
    -- float data, stored exactly
    v_float      real,
    -- percentage data
    v_num        integer,
    v_den        integer,
    -- histogram (bucket order kept), json and subinterval data, as JSON text
    v_json       text,
    primary key (metadata_key, event_type, ts)
) without rowid;

-- The mergeable state of one bin of one summary window: recomputed from base points (or from
-- the bins of a smaller window) and upserted, never incremented, so retries cannot double count.
-- Summary types of the same window share the state: aggregation and average read the sums,
-- statistics the merged histogram.
create table summary_bin (
    metadata_key   text    not null,
    event_type     text    not null,
    summary_window integer not null,
    -- epoch-aligned bin start, floor(ts / window) * window
    bin_start      integer not null,
    point_count    integer not null,
    int_sum        integer not null,
    float_sum      real    not null,
    numerator      integer not null,
    denominator    integer not null,
    -- merged histogram as JSON text, buckets in order of first appearance
    histogram      text,
    primary key (metadata_key, event_type, summary_window, bin_start)
) without rowid;
