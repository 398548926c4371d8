# The exactly-once loop the seeds describe (shared/seeds/001_ce94571a00441712.txt,
# "Exactly-once": initTransactions, beginTransaction, send, commitTransaction;
# with the consumer side of seed 000: isolation.level=read_committed), written
# with Debian's python3-confluent-kafka as a consume-process-produce worker:
# the offsets of what it read are sent to the transaction
# (send_offsets_to_transaction), so output and progress commit together.
#
# It copies every record of IN to OUT, one transaction per poll, and prints
# "committed N" after each commit. It exits 0 when its committed positions
# reach the end offsets given on the command line.
#
# Usage: eos_worker.py BOOTSTRAP GROUP IN OUT TRANSACTIONAL_ID END0,END1,...
import sys

from confluent_kafka import Consumer, KafkaException, Producer, TopicPartition


def main():
    bootstrap, group, topic_in, topic_out, txn_id, ends = sys.argv[1:7]
    ends = [int(e) for e in ends.split(",")]
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": group,
        "enable.auto.commit": False,
        "isolation.level": "read_committed",
        "auto.offset.reset": "earliest",
    })
    producer = Producer({
        "bootstrap.servers": bootstrap,
        "transactional.id": txn_id,
        "enable.idempotence": True,
    })
    producer.init_transactions(30)
    consumer.subscribe([topic_in])
    done = [False] * len(ends)
    try:
        while not all(done):
            msgs = consumer.consume(num_messages=100, timeout=1.0)
            msgs = [m for m in msgs if m.error() is None]
            if not msgs:
                continue
            producer.begin_transaction()
            for m in msgs:
                producer.produce(topic_out, key=m.key(), value=m.value(), partition=m.partition())
            positions = consumer.position(consumer.assignment())
            producer.send_offsets_to_transaction(positions, consumer.consumer_group_metadata(), 30)
            producer.commit_transaction(30)
            print("committed %d" % len(msgs), flush=True)
            for tp in positions:
                if tp.offset >= ends[tp.partition]:
                    done[tp.partition] = True
    except KafkaException as e:
        print("eos_worker: %s" % e, file=sys.stderr, flush=True)
        sys.exit(1)
    finally:
        consumer.close()


if __name__ == "__main__":
    main()
