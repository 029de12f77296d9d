-- Records by kind and key (incidents and their indexes, cached release
-- notes), each a JSON body; a kind's id counter lives in `counters` as
-- `next_record_id:<kind>`.
CREATE TABLE records (
    kind text NOT NULL,
    key text NOT NULL,
    body bytea NOT NULL,
    PRIMARY KEY (kind, key)
);
