# An idempotent librdkafka producer for TestIdempotentProducerLibrdkafka,
# run with Debian's python3-confluent-kafka (/usr/bin/python3).
#
# Produces the values "0".."N-1" to partition 0 of TOPIC with
# enable.idempotence=true and acks=all, in small batches so that the test's
# proxy sees several Produce requests, then flushes. Prints one JSON line on
# stdout: {"delivered": D, "errors": [...], "fatal": "..."}, and exits 0
# only if every record was delivered without error.
#
# Usage: idempotent_producer.py BOOTSTRAP TOPIC N
import json
import sys

from confluent_kafka import Producer


def main():
    bootstrap, topic, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    fatal = []

    def on_error(err):
        # Transport errors (the proxy closing a connection) are expected
        # and retried by librdkafka; a fatal error ends idempotence.
        if err.fatal():
            fatal.append(str(err))

    p = Producer({
        "bootstrap.servers": bootstrap,
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "batch.num.messages": 100,  # about ten Produce requests for 1,000 records
        "message.timeout.ms": 60000,
        "error_cb": on_error,
    })

    delivered = []
    errors = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append("%s: %s" % (msg.value().decode(), err))
        else:
            delivered.append(int(msg.value().decode()))

    for i in range(n):
        while True:
            try:
                p.produce(topic, str(i).encode(), partition=0, on_delivery=on_delivery)
                break
            except BufferError:
                p.poll(0.1)
        p.poll(0)
    left = p.flush(90)

    out = {"delivered": len(delivered), "errors": errors[:10], "fatal": fatal, "unflushed": left,
           "in_order": delivered == sorted(delivered)}
    print(json.dumps(out))
    sys.stdout.flush()
    ok = len(delivered) == n and not errors and not fatal and left == 0
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
