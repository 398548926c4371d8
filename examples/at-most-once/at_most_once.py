"""An at-most-once consumer with confluent-kafka (librdkafka).

Every record is processed at most once: none is ever processed twice, and
after a crash some are never processed at all.

The rule: commit a poll's offsets first, process its records after. The
group's committed offset is where a restarted consumer (or the member that
takes over the partition) resumes. Committing before processing means the
committed offset is never behind the work, so nothing is processed again;
a crash in the middle of processing leaves the rest of the poll behind the
committed offset, and those records are skipped.

Why not just enable.auto.commit=true? librdkafka's periodic commit (every
auto.commit.interval.ms, 5 s) stores the offsets of what poll has handed
out so far, at a moment unrelated to processing. A crash after a record was
processed but before the next periodic commit makes the group read it
again: processed twice. Auto-commit is neither at-most-once nor
at-least-once; only a commit placed before (or after) processing is.

Usage:

    python3 at_most_once.py --brokers 127.0.0.1:9092 --topic metrics --group dashboard

It prints one line per event, the same as the Go program beside it:

    polled 100 records
    committed 0/34 1/33 2/35      per partition, the next offset the group will read
    processed 2/41 value=123      partition 2, offset 41, and the record's value

SIGINT or SIGTERM: it finishes the poll in hand (already committed), then
exits.
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
        # topic (librdkafka's default is "latest").
        "auto.offset.reset": "earliest",
        # This program commits itself, before processing (see above for why
        # auto-commit is not at-most-once).
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
    processed = skipped = 0
    try:
        while not stopping:
            msgs = consumer.consume(num_messages=100, timeout=1.0)
            for m in msgs:
                if m.error():
                    print("at_most_once: %s" % m.error(), file=sys.stderr, flush=True)
            msgs = [m for m in msgs if not m.error()]
            if not msgs:
                continue
            print("polled %d records" % len(msgs), flush=True)

            # 1. Commit first, synchronously: it returns once the broker has
            # stored the offsets, so the group will not hand these records
            # out again, to this consumer or any other.
            offsets = next_offsets(msgs)
            try:
                consumer.commit(offsets=offsets, asynchronous=False)
            except KafkaException as e:
                # The group rebalanced (or the broker is unreachable): the
                # partitions may belong to another member now, which will
                # read these records too. Processing them here could process
                # them twice, so they are dropped.
                print("at_most_once: commit failed, these %d records are skipped: %s" % (len(msgs), e),
                      file=sys.stderr, flush=True)
                skipped += len(msgs)
                continue
            print("committed " + " ".join("%d/%d" % (tp.partition, tp.offset) for tp in offsets), flush=True)

            # 2. Then process. A crash from here on loses the rest of the
            # poll: its offsets are already committed.
            for m in msgs:
                process(m, args.work_ms)
                processed += 1
    finally:
        consumer.close()
    print("stopped after processing %d records (%d skipped after a failed commit)" % (processed, skipped), flush=True)


if __name__ == "__main__":
    main()
