-- releasebot schema 1. Bodies are the same JSON records the sled store
-- keeps; what is queried has real columns and indexes.

CREATE TABLE releases (
    id           bigint PRIMARY KEY,
    status       smallint NOT NULL,
    scheduled_at timestamptz,
    service      text NOT NULL,
    environment  text NOT NULL,
    requester    text NOT NULL,
    body         jsonb NOT NULL
);
CREATE INDEX releases_by_status ON releases (status, id);
CREATE INDEX releases_by_time ON releases (scheduled_at, id) WHERE scheduled_at IS NOT NULL;
CREATE INDEX releases_by_target ON releases (service, environment, id);
CREATE INDEX releases_by_requester ON releases (requester, id);

-- Named counters: next_release_id, next_freeze_id.
CREATE TABLE counters (
    name  text PRIMARY KEY,
    value bigint NOT NULL
);
INSERT INTO counters VALUES ('next_release_id', 1), ('next_freeze_id', 1);

-- The audit log: one hash chain for every instance. Appends lock the single
-- head row, so they are serialised.
CREATE TABLE audit (
    seq     bigint PRIMARY KEY,
    release bigint,
    entry   jsonb NOT NULL
);
CREATE INDEX audit_by_release ON audit (release, seq) WHERE release IS NOT NULL;
CREATE TABLE audit_head (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq       bigint NOT NULL,
    hash      text NOT NULL
);
INSERT INTO audit_head VALUES (true, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Outboxes. `lane` groups entries that must go out in order (a release in a
-- channel; a digest channel; a service+environment); a lane is claimed as a
-- whole through its first entry, with FOR UPDATE SKIP LOCKED.
CREATE TABLE outbox_notify (
    seq           bigserial PRIMARY KEY,
    lane          text NOT NULL,
    platform      text NOT NULL,
    body          jsonb NOT NULL,
    claimed_by    text,
    claimed_until timestamptz
);
CREATE INDEX outbox_notify_by_lane ON outbox_notify (lane, seq);

CREATE TABLE outbox_digest (
    seq           bigserial PRIMARY KEY,
    lane          text NOT NULL,
    platform      text NOT NULL,
    body          jsonb NOT NULL,
    claimed_by    text,
    claimed_until timestamptz
);
CREATE INDEX outbox_digest_by_lane ON outbox_digest (lane, seq);

CREATE TABLE outbox_ci (
    key           text PRIMARY KEY,
    seq           bigserial UNIQUE,
    lane          text NOT NULL,
    body          jsonb NOT NULL,
    claimed_by    text,
    claimed_until timestamptz
);
CREATE INDEX outbox_ci_by_lane ON outbox_ci (lane, seq);

-- Which chat message carries each announcement, and the reverse.
CREATE TABLE posted (
    release bigint NOT NULL,
    channel text NOT NULL,
    message text NOT NULL,
    PRIMARY KEY (release, channel)
);
CREATE TABLE threads (
    channel text NOT NULL,
    message text NOT NULL,
    release bigint NOT NULL,
    PRIMARY KEY (channel, message)
);
-- First posts under way, whose outcome may be unknown after a crash.
CREATE TABLE posting (
    release bigint NOT NULL,
    channel text NOT NULL,
    PRIMARY KEY (release, channel)
);

-- Inbound chat deliveries already handled (any instance).
CREATE TABLE seen (
    delivery text PRIMARY KEY,
    at       timestamptz NOT NULL
);
CREATE INDEX seen_by_time ON seen (at);

CREATE TABLE roles (
    user_ref text NOT NULL,
    role     text NOT NULL,
    PRIMARY KEY (user_ref, role)
);

CREATE TABLE freezes (
    id          bigint PRIMARY KEY,
    environment text NOT NULL,
    starts      timestamptz NOT NULL,
    body        jsonb NOT NULL
);

CREATE TABLE locks (
    service     text NOT NULL,
    environment text NOT NULL,
    body        jsonb NOT NULL,
    PRIMARY KEY (service, environment)
);
CREATE TABLE live (
    service     text NOT NULL,
    environment text NOT NULL,
    body        jsonb NOT NULL,
    PRIMARY KEY (service, environment)
);
CREATE TABLE in_flight (
    service     text NOT NULL,
    environment text NOT NULL,
    release     bigint NOT NULL,
    PRIMARY KEY (service, environment)
);

-- Scheduler state: when each key last fired, and each fired slot once.
CREATE TABLE scheduler (
    key      text PRIMARY KEY,
    fired_at timestamptz NOT NULL
);
CREATE TABLE fired_slots (
    key  text NOT NULL,
    slot timestamptz NOT NULL,
    PRIMARY KEY (key, slot)
);
CREATE TABLE timers (
    due     timestamptz NOT NULL,
    kind    smallint NOT NULL,
    release bigint NOT NULL,
    PRIMARY KEY (due, kind, release)
);

-- Leases held by one instance at a time (the scheduler's).
CREATE TABLE leases (
    name   text PRIMARY KEY,
    holder text NOT NULL,
    epoch  bigint NOT NULL,
    until  timestamptz NOT NULL
);
