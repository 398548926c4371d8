# A confluent-kafka (librdkafka) client over SASL_SSL for
# TestPythonSASLSSLScram, run with Debian's python3-confluent-kafka
# (/usr/bin/python3).
#
# roundtrip: produces the values "0".."N-1" to partition 0 of TOPIC with
# acks=all, flushes, then reads partition 0 back from the beginning.
# Prints one JSON line: {"delivered": [...], "errors": [...],
# "consumed": [...]}, the values in the order the delivery reports and the
# consumer gave them (the first ten errors); exits 0 if every record was
# delivered and read back in order without an error.
#
# refused: produces one record and waits for the error callback. Prints
# {"errors": [{"code": ..., "name": ..., "str": ...}], "delivered": D,
# "unflushed": U}; exits 0.
#
# Usage: sasl_client.py roundtrip|refused BOOTSTRAP CAFILE MECHANISM USER PASSWORD TOPIC N
import json
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition


def error(err):
    return {"code": err.code(), "name": err.name(), "str": err.str()}


def conf(bootstrap, cafile, mechanism, user, password, errors):
    """The client configuration; errors collects the error callback's."""
    return {
        "bootstrap.servers": bootstrap,
        "security.protocol": "SASL_SSL",
        "ssl.ca.location": cafile,
        "sasl.mechanisms": mechanism,
        "sasl.username": user,
        "sasl.password": password,
        "error_cb": lambda err: errors.append(error(err)),
    }


def produce(c, topic, n, errors):
    p = Producer(dict(c, **{"acks": "all", "message.timeout.ms": 30000}))
    delivered = []

    def on_delivery(err, msg):
        if err is not None:
            errors.append(error(err))
        else:
            delivered.append(int(msg.value().decode()))

    for i in range(n):
        p.produce(topic, str(i).encode(), partition=0, on_delivery=on_delivery)
        p.poll(0)
    return p, delivered


def roundtrip(c, errors, topic, n):
    p, delivered = produce(c, topic, n, errors)
    p.flush(60)

    consumed = []
    cons = Consumer(dict(c, **{"group.id": topic + "-reader", "enable.auto.commit": False}))
    cons.assign([TopicPartition(topic, 0, 0)])
    deadline = time.time() + 60
    while len(consumed) < n and time.time() < deadline:
        msg = cons.poll(1.0)
        if msg is None:
            continue
        if msg.error():
            errors.append(error(msg.error()))
            continue
        consumed.append(int(msg.value().decode()))
    cons.close()
    print(json.dumps({"delivered": delivered, "errors": errors[:10], "consumed": consumed}))
    return len(delivered) == n and consumed == list(range(n)) and not errors


def refused(c, errors, topic):
    p, delivered = produce(c, topic, 1, errors)
    deadline = time.time() + 30
    while not errors and time.time() < deadline:
        p.poll(0.1)
    # The record stays queued; purge it rather than wait out its timeout.
    p.purge()
    left = p.flush(5)
    print(json.dumps({"errors": errors, "delivered": len(delivered), "unflushed": left}))
    return True


def main():
    mode, bootstrap, cafile, mechanism, user, password, topic, n = sys.argv[1:9]
    errors = []
    c = conf(bootstrap, cafile, mechanism, user, password, errors)
    ok = roundtrip(c, errors, topic, int(n)) if mode == "roundtrip" else refused(c, errors, topic)
    sys.stdout.flush()
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
