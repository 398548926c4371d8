# The at-least-once consumer from seed 001 (shared/seeds/001_ce94571a00441712.txt,
# "Delivery Semantics" > "At-Least-Once Configuration", the listing
# "# Python - at-least-once consumer"), run by TestPythonSeedConsumerAtLeastOnce
# with Debian's python3-confluent-kafka (/usr/bin/python3).
#
# The loop in run() is the seed's, unchanged: poll(0.1), skip None and errors,
# process_message(msg), then consumer.commit(msg), close() in finally.
#
# The wrapper only fills in what the article leaves to the reader:
#   - argv: bootstrap servers, group id, topic (the seed hard-codes
#     localhost:9092, my-group, my-topic);
#   - process_message: prints the record's value as one line on stdout and
#     flushes, so the test sees exactly what was processed; env
#     SEED_PROCESS_MS makes each record take that long to process (default 0);
#   - two settings the seed leaves at librdkafka's defaults, marked "not in
#     the seed" below;
#   - SIGTERM runs the seed's finally (close) and exits 0.
#
# Usage: seed_consumer.py BOOTSTRAP GROUP TOPIC
import os
import signal
import sys
import time

from confluent_kafka import Consumer


PROCESS_SECONDS = float(os.environ.get("SEED_PROCESS_MS", "0")) / 1000


def process_message(msg):
    if PROCESS_SECONDS:
        time.sleep(PROCESS_SECONDS)
    sys.stdout.write(msg.value().decode() + "\n")
    sys.stdout.flush()


class Terminated(Exception):
    pass


def on_sigterm(signum, frame):
    raise Terminated()


def log_error(err):
    sys.stderr.write("seed_consumer: %s\n" % err)
    sys.stderr.flush()


def run(bootstrap, group, topic):
    conf = {
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "enable.auto.commit": False,
        # Not in the seed: the topic is filled before the first run, and
        # librdkafka's default (latest) would start a new group after it.
        "auto.offset.reset": "earliest",
        # Not in the seed: librdkafka's default is 45s; a SIGKILLed run
        # stays a member until its session expires, and the next run's
        # rebalance waits for that.
        "session.timeout.ms": 6000,
        "error_cb": log_error,
    }

    consumer = Consumer(conf)
    consumer.subscribe([topic])

    try:
        while True:
            msg = consumer.poll(0.1)
            if msg is None or msg.error():
                continue
            process_message(msg)
            consumer.commit(msg)  # Commit after processing
    finally:
        consumer.close()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.stderr.write("usage: seed_consumer.py BOOTSTRAP GROUP TOPIC\n")
        sys.exit(2)
    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        run(sys.argv[1], sys.argv[2], sys.argv[3])
    except Terminated:
        sys.exit(0)
