-- Schema of the transactional outbox (examples/outbox): psql -f schema.sql

-- The business rows: orders, each with its status and a version that
-- counts its changes.
CREATE TABLE IF NOT EXISTS orders (
    id      text    PRIMARY KEY,
    status  text    NOT NULL,
    version integer NOT NULL
);

-- The outbox: one row per event to publish, inserted by the transaction
-- that changes the order, so the event exists if and only if the change
-- does. The relay publishes unsent rows in id order and then sets sent_at.
CREATE TABLE IF NOT EXISTS outbox (
    id           bigserial   PRIMARY KEY,  -- publication order; the message id consumers deduplicate by
    aggregate_id text        NOT NULL,     -- the order's id: the Kafka key, so one order's events share a partition
    event_type   text        NOT NULL,
    payload      jsonb       NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz               -- NULL until Kafka acknowledged the event
);

-- What the relay asks for: the unsent rows, oldest first.
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
