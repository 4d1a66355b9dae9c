-- Issue 19 §4. What generations cost.
-- One row per finished job that a price applied to: its estimated cost in millionths of a
-- dollar, the price list version that priced it and whose key paid. Rows outlive the
-- image (a purged image was still paid for) and the account (the instance's month still
-- counts it), so there is no foreign key.
CREATE TABLE spend (
    job_id          TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL,
    image_id        TEXT NOT NULL,
    provider        TEXT NOT NULL,
    model           TEXT NOT NULL,
    key_source      TEXT NOT NULL CHECK (key_source IN ('own', 'server', 'none')),
    key_last4       TEXT,
    cost_micros     INTEGER NOT NULL,
    pricing_version TEXT NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX spend_user_time ON spend (user_id, created_at);
CREATE INDEX spend_time ON spend (created_at);

-- Prices set by administrators, over the shipped ones and the PRICING_FILE's: one JSON
-- ModelPrice per model.
CREATE TABLE price_overrides (
    provider    TEXT NOT NULL,
    model       TEXT NOT NULL,
    price       TEXT NOT NULL,
    updated_by  TEXT,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (provider, model)
);

-- A person's own monthly spending cap, in millionths of a dollar; NULL for none.
ALTER TABLE users ADD COLUMN monthly_spend_cap_micros INTEGER;
