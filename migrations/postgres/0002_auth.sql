-- Users, their API keys and the IP networks that authenticate as them.

-- "user" is reserved in PostgreSQL, hence api_user.
create table api_user (
    user_id    bigint generated always as identity primary key,
    name       text collate "C" not null unique,
    -- An inactive user's keys are refused with "User inactive or deleted.".
    active     boolean not null default true,
    created_at timestamptz not null default now()
);

-- Keys are stored as sha-256 digests; the key itself is shown once, at creation.
create table api_key (
    api_key_id bigint generated always as identity primary key,
    user_id    bigint not null references api_user (user_id) on delete cascade,
    key_hash   text not null unique,
    -- The first characters of the key, so that an operator can tell keys apart.
    key_hint   text not null,
    created_at timestamptz not null default now()
);

-- Networks whose requests (without a token) act as the user; the longest prefix wins.
create table user_network (
    -- Canonical CIDR text, e.g. 10.0.0.0/24 or 2001:db8::1/128.
    network    text primary key,
    user_id    bigint not null references api_user (user_id) on delete cascade,
    created_at timestamptz not null default now()
);
