-- Summary bins of recent points are settled by a background pass instead of at every write
-- (crates/storage/src/settling.rs).

-- Series that took recent points, by the hour in which some of their bins close, with the
-- summary windows they keep (comma separated).
create table summary_queue (
    slot         integer not null,
    metadata_key text    not null,
    event_type   text    not null,
    windows      text    not null,
    primary key (slot, metadata_key, event_type)
) without rowid;

-- Every bin that ends at or before `through` is stored settled; later bins are folded at read time.
create table summary_settled (
    name    text    primary key,
    through integer not null
);
