-- The change feed: every transaction that changed something records what
-- (a small JSON object) and sends it with NOTIFY at commit. A listener that
-- reconnects reads what it missed from here, by sequence.
CREATE TABLE changes (
    seq bigserial PRIMARY KEY,
    at timestamptz NOT NULL DEFAULT now(),
    origin text NOT NULL,
    body text NOT NULL
);
CREATE INDEX changes_at ON changes (at);
