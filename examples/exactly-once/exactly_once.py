"""Exactly-once consume-transform-produce with confluent-kafka (librdkafka).

It reads a topic, transforms each record and writes the result to another
topic so that every input record's result is in the output exactly once,
whatever crashes: the loop with Kafka transactions.

The rule: the output records and the input offsets are committed in one
transaction (send_offsets_to_transaction). A transaction either commits
(outputs visible to read_committed readers, offsets moved) or aborts
(outputs hidden for ever, offsets unchanged, so the input is read again). A
crash in the middle of a transaction leaves it open; the next instance with
the same transactional.id aborts it in init_transactions(). This holds from
Kafka to Kafka only: an effect outside Kafka (a database write, an e-mail)
is not in the transaction, see the idempotent consumer examples for that.

Readers of the output must use isolation.level=read_committed: at the
default, read_uncommitted, they also see the records of aborted
transactions, which here are the duplicates a crash leaves behind.

Usage:

    python3 exactly_once.py --brokers 127.0.0.1:9092 --in orders --out invoices \\
        --group invoicer --transactional-id invoicer-1

It prints one line per event, the same as the Go program beside it:

    polled 100 records
    processed 2/41 value=123                                input partition 2, offset 41, and its value
    committed 0/34 1/33 2/35 -- transaction of 100 records  per input partition, the next offset the group will read
    aborted transaction of 100 records                     they will be read again

SIGINT or SIGTERM: it finishes and commits the transaction in hand, then
exits.
"""
import argparse
import signal
import sys
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, Producer, TopicPartition

stopping = False


def on_signal(signum, frame):
    global stopping
    stopping = True


def transform(msg, work_ms):
    """The application's work on one record: here the output is the input's
    key and value, with a header naming the input record it came from; the
    sleep stands for the time real work takes."""
    time.sleep(work_ms / 1000)
    print("processed %d/%d value=%s" % (msg.partition(), msg.offset(), msg.value().decode()), flush=True)
    return msg.key(), msg.value(), [("source", b"%d/%d" % (msg.partition(), msg.offset()))]


def next_offsets(msgs):
    """Per partition, the offset after the last record: what the transaction
    commits for the group."""
    nxt = {}
    for m in msgs:
        nxt[m.partition()] = max(nxt.get(m.partition(), 0), m.offset() + 1)
    return [TopicPartition(msgs[0].topic(), p, o) for p, o in nxt.items()]


def rewind(consumer, msgs):
    """After an abort, go back to the group's committed offsets for the
    partitions of the aborted transaction: the consumer's position is past
    its records, which would otherwise be skipped."""
    parts = next_offsets(msgs)
    for tp in consumer.committed(parts, timeout=30):
        if tp.offset < 0:  # nothing committed yet: auto.offset.reset=earliest
            tp.offset = OFFSET_BEGINNING
        consumer.seek(tp)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--brokers", default="127.0.0.1:9092")
    ap.add_argument("--in", dest="topic_in", required=True, help="input topic")
    ap.add_argument("--out", dest="topic_out", required=True, help="output topic")
    ap.add_argument("--group", required=True)
    ap.add_argument("--transactional-id", required=True,
                    help="the same for every restart of this instance, different between instances")
    ap.add_argument("--instance", help="group.instance.id: a restarted consumer with the same id gets its partitions back at once")
    ap.add_argument("--work-ms", type=int, default=0, help="milliseconds spent processing each record")
    args = ap.parse_args()

    consumer_conf = {
        "bootstrap.servers": args.brokers,
        "group.id": args.group,
        "auto.offset.reset": "earliest",
        # Offsets move only with a committed transaction, never on their
        # own.
        "enable.auto.commit": False,
        # The input may itself be written in transactions: read only what
        # was committed.
        "isolation.level": "read_committed",
    }
    if args.instance:
        # Static membership: a restart with the same id takes its partitions
        # back without a rebalance.
        consumer_conf["group.instance.id"] = args.instance
    producer = Producer({
        "bootstrap.servers": args.brokers,
        # transactional.id makes the producer transactional (and
        # idempotent, acks=all). init_transactions() aborts whatever
        # transaction the id left open and fences the previous holder of the
        # id: a paused "zombie" of this instance can no longer write or
        # commit.
        "transactional.id": args.transactional_id,
        # A transaction left open longer than this is aborted by the broker.
        "transaction.timeout.ms": 30000,
    })

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    producer.init_transactions(30)
    consumer = Consumer(consumer_conf)
    consumer.subscribe([args.topic_in])
    committed_records = 0
    try:
        while not stopping:
            msgs = consumer.consume(num_messages=100, timeout=1.0)
            for m in msgs:
                if m.error():
                    print("exactly_once: %s" % m.error(), file=sys.stderr, flush=True)
            msgs = [m for m in msgs if not m.error()]
            if not msgs:
                continue
            print("polled %d records" % len(msgs), flush=True)

            producer.begin_transaction()
            try:
                # One output record per input record, inside the
                # transaction. A crash from here until the commit leaves the
                # transaction open: its records are in the output topic, but
                # no read_committed reader will ever see them.
                for m in msgs:
                    key, value, headers = transform(m, args.work_ms)
                    producer.produce(args.topic_out, key=key, value=value, headers=headers)
                    producer.poll(0)  # serve delivery callbacks, keep the queue moving
                # The consumed offsets go into the transaction, with the
                # group's metadata (member id, generation): a member that
                # lost its partitions in a rebalance cannot commit them.
                producer.send_offsets_to_transaction(next_offsets(msgs), consumer.consumer_group_metadata(), 30)
                producer.commit_transaction(30)
            except KafkaException as e:
                err = e.args[0]
                if not err.txn_requires_abort():
                    # Fatal (fenced by a newer instance with the same id) or
                    # unresolved after the timeout: exit; the next instance
                    # starts over from the committed offsets.
                    raise
                print("exactly_once: %s" % err, file=sys.stderr, flush=True)
                producer.abort_transaction(30)
                rewind(consumer, msgs)
                print("aborted transaction of %d records" % len(msgs), flush=True)
                continue
            committed_records += len(msgs)
            print("committed %s -- transaction of %d records"
                  % (" ".join("%d/%d" % (tp.partition, tp.offset) for tp in next_offsets(msgs)), len(msgs)), flush=True)
    except KafkaException as e:
        print("exactly_once: %s" % e, file=sys.stderr, flush=True)
        sys.exit(1)
    finally:
        consumer.close()
    print("stopped after committing %d records" % committed_records, flush=True)


if __name__ == "__main__":
    main()
