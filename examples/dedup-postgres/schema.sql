-- Schema of the idempotent consumer (examples/dedup-postgres): psql -f schema.sql

-- The effect: each account's balance, the sum of the amounts of its records.
CREATE TABLE IF NOT EXISTS accounts (
    id      text   PRIMARY KEY,
    balance bigint NOT NULL
);

-- The identity of every record whose effect is in accounts, written in the
-- same transaction as the effect. The primary key is the unique constraint
-- that turns a redelivered record away: its second insert conflicts, and
-- the consumer then leaves the balance alone.
CREATE TABLE IF NOT EXISTS processed_records (
    topic         text        NOT NULL,
    partition     integer     NOT NULL,
    record_offset bigint      NOT NULL,
    processed_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, partition, record_offset)
);
