"""An at-least-once consumer with confluent-kafka (librdkafka).

Every record is processed at least once: none is ever skipped, and after a
crash some are processed again.

The rule: process a poll's records first, commit their offsets after. The
group's committed offset is where a restarted consumer (or the member that
takes over the partition) resumes. Committing only what has been processed
means the committed offset is never ahead of the work, so nothing is
skipped; a crash between processing and the commit leaves it behind, and
the records in between are processed again.

Usage:

    python3 at_least_once.py --brokers 127.0.0.1:9092 --topic orders --group billing

It prints one line per event, the same as the Go program beside it:

    polled 100 records
    processed 2/41 value=123      partition 2, offset 41, and the record's value
    committed 0/34 1/33 2/35      per partition, the next offset the group will read

SIGINT or SIGTERM: it finishes and commits the poll in hand, then exits.
"""
import argparse
import signal
import sys
import time

from confluent_kafka import Consumer, KafkaException, TopicPartition

stopping = False


def on_signal(signum, frame):
    global stopping
    stopping = True


def process(msg, work_ms):
    """The application's work on one record. Here it prints the record; the
    sleep stands for the time real work takes, which is when a crash is most
    likely to hit."""
    time.sleep(work_ms / 1000)
    print("processed %d/%d value=%s" % (msg.partition(), msg.offset(), msg.value().decode()), flush=True)


def next_offsets(msgs):
    """Per partition, the offset after the last record: what a commit
    stores, the next record the group will read."""
    nxt = {}
    for m in msgs:
        nxt[m.partition()] = max(nxt.get(m.partition(), 0), m.offset() + 1)
    return [TopicPartition(msgs[0].topic(), p, o) for p, o in nxt.items()]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--brokers", default="127.0.0.1:9092")
    ap.add_argument("--topic", required=True)
    ap.add_argument("--group", required=True)
    ap.add_argument("--instance", help="group.instance.id: a restarted consumer with the same id gets its partitions back at once")
    ap.add_argument("--work-ms", type=int, default=0, help="milliseconds spent processing each record")
    args = ap.parse_args()

    conf = {
        "bootstrap.servers": args.brokers,
        "group.id": args.group,
        # A group with no committed offset starts at the beginning of the
        # topic, so records written before the first start are not skipped
        # (librdkafka's default is "latest").
        "auto.offset.reset": "earliest",
        # librdkafka's periodic commit (every auto.commit.interval.ms)
        # commits what poll handed out, whether or not it has been
        # processed yet: a crash after such a commit skips the records that
        # were still being worked on. This program commits itself, after
        # processing.
        "enable.auto.commit": False,
    }
    if args.instance:
        # Static membership: the broker keeps the member's place in the
        # group, and a restart with the same id takes it back without a
        # rebalance. Without it the group waits for the dead member's
        # session timeout (45 s by default) before its partitions are read
        # again.
        conf["group.instance.id"] = args.instance

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    consumer = Consumer(conf)
    consumer.subscribe([args.topic])
    processed = 0
    try:
        while not stopping:
            msgs = consumer.consume(num_messages=100, timeout=1.0)
            for m in msgs:
                if m.error():
                    print("at_least_once: %s" % m.error(), file=sys.stderr, flush=True)
            msgs = [m for m in msgs if not m.error()]
            if not msgs:
                continue
            print("polled %d records" % len(msgs), flush=True)

            # 1. Process every record.
            for m in msgs:
                process(m, args.work_ms)
                processed += 1

            # 2. Then commit, synchronously: it returns once the broker has
            # stored the offsets. A crash before this line means the whole
            # poll is read again by the next consumer.
            offsets = next_offsets(msgs)
            try:
                consumer.commit(offsets=offsets, asynchronous=False)
            except KafkaException as e:
                # The group rebalanced (or the broker is unreachable): the
                # partitions may belong to another member now, which will
                # process these records again. Nothing is lost.
                print("at_least_once: commit failed, these %d records will be read again: %s" % (len(msgs), e),
                      file=sys.stderr, flush=True)
                continue
            print("committed " + " ".join("%d/%d" % (tp.partition, tp.offset) for tp in offsets), flush=True)
    finally:
        consumer.close()
    print("stopped after processing %d records" % processed, flush=True)


if __name__ == "__main__":
    main()
