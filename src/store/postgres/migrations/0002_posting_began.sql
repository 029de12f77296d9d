-- When a first post began, so that the lost-post lookup pages back through
-- a channel's history exactly that far.
ALTER TABLE posting ADD COLUMN began timestamptz NOT NULL DEFAULT now();
