-- Users, their API keys and the IP networks that authenticate as them.

create table user (
    user_id    integer primary key,
    name       text    not null unique,
    -- An inactive user's keys are refused with "User inactive or deleted.".
    active     integer not null default 1,
    created_at integer not null default (unixepoch())
);

-- Keys are stored as sha-256 digests; the key itself is shown once, at creation.
create table api_key (
    api_key_id integer primary key,
    user_id    integer not null references user (user_id) on delete cascade,
    key_hash   text    not null unique,
    -- The first characters of the key, so that an operator can tell keys apart.
    key_hint   text    not null,
    created_at integer not null default (unixepoch())
);

-- Networks whose requests (without a token) act as the user; the longest prefix wins.
create table user_network (
    -- Canonical CIDR text, e.g. 10.0.0.0/24 or 2001:db8::1/128.
    network    text    primary key,
    user_id    integer not null references user (user_id) on delete cascade,
    created_at integer not null default (unixepoch())
);
