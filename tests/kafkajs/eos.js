// The exactly-once loop with kafkajs 2.2 (transactional producer, offsets
// sent to the transaction, read_committed consumer), run by
// tests/eos_test.go: it copies every record of IN to OUT, one
// transaction per batch, and exits 0 once its committed offsets reach the
// end offsets given on the command line.
//
// Usage: node eos.js BROKER GROUP IN OUT TRANSACTIONAL_ID END0,END1,...
const { Kafka, logLevel } = require('kafkajs')

async function main() {
  const [broker, group, topicIn, topicOut, txnId, endList] = process.argv.slice(2)
  const ends = endList.split(',').map(Number)
  const kafka = new Kafka({ clientId: 'sluice-kafkajs-eos', brokers: [broker], logLevel: logLevel.ERROR })
  const producer = kafka.producer({ transactionalId: txnId, idempotent: true, maxInFlightRequests: 1 })
  const consumer = kafka.consumer({ groupId: group, readUncommitted: false })
  await producer.connect()
  await consumer.connect()
  await consumer.subscribe({ topic: topicIn, fromBeginning: true })
  const done = ends.map(e => e === 0)
  let finish
  const finished = new Promise(resolve => { finish = resolve })
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch, isRunning, isStale }) => {
      if (!isRunning() || isStale() || batch.messages.length === 0) return
      const txn = await producer.transaction()
      try {
        await txn.send({ topic: topicOut, messages: batch.messages.map(m => ({ key: m.key, value: m.value, partition: batch.partition })) })
        const next = (BigInt(batch.lastOffset()) + 1n).toString()
        await txn.sendOffsets({ consumerGroupId: group, topics: [{ topic: topicIn, partitions: [{ partition: batch.partition, offset: next }] }] })
        await txn.commit()
        console.log(`committed ${batch.messages.length}`)
        if (Number(next) >= ends[batch.partition]) done[batch.partition] = true
        if (done.every(Boolean)) finish()
      } catch (e) {
        await txn.abort().catch(() => {})
        throw e
      }
    },
  })
  await finished
  await consumer.disconnect()
  await producer.disconnect()
}

main().catch(e => { console.error('eos.js:', e); process.exit(1) })
