// kafkajs against kafkette: admin, idempotent produce, a committed and an aborted
// transaction, and a read_committed group consumer. Prints one JSON line of what it saw.
// Usage: node kafkajs_roundtrip.js BOOTSTRAP TOPIC [SECURITY]
// SECURITY (JSON): {"caFile": PATH, "sasl": {"mechanism": "plain", "username": ..., "password": ...}}: TLS
// trusting that CA, and SASL; a failure prints "ERR <error name>: <message>" on stderr and exits 1.
const fs = require('fs')
const { Kafka, logLevel } = require('kafkajs')
const [bootstrap, topic, securityJson] = process.argv.slice(2)
const security = securityJson ? JSON.parse(securityJson) : {}
const kafka = new Kafka({
  clientId: 'kafkette-test', brokers: [bootstrap], logLevel: logLevel.ERROR,
  ssl: security.caFile ? { ca: [fs.readFileSync(security.caFile, 'utf-8')] } : undefined,
  sasl: security.sasl,
  retry: security.sasl ? { retries: 1 } : undefined,
})
async function main() {
  const admin = kafka.admin(); await admin.connect()
  await admin.createTopics({ topics: [{ topic: topic, numPartitions: 2 }] })
  await admin.disconnect()
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
  await producer.connect()
  await producer.send({ topic: topic, messages: Array.from({length: 100}, (_, i) => ({ value: 'v' + i })) })
  const tp = kafka.producer({ transactionalId: topic + '-txn', maxInFlightRequests: 1, idempotent: true })
  await tp.connect()
  const txn = await tp.transaction()
  await txn.send({ topic: topic, messages: [{ value: 'in-txn' }] })
  await txn.commit()
  const txa = await tp.transaction()
  await txa.send({ topic: topic, messages: [{ value: 'aborted' }] })
  await txa.abort()
  await producer.disconnect(); await tp.disconnect()
  const consumer = kafka.consumer({ groupId: topic + '-group', readUncommitted: false })
  await consumer.connect()
  await consumer.subscribe({ topic: topic, fromBeginning: true })
  const seen = []
  let timer
  await new Promise((resolve) => {
    consumer.run({ eachMessage: async ({ message }) => { seen.push(message.value.toString()); if (seen.length >= 101) resolve() } })
    timer = setTimeout(resolve, 15000)
  })
  clearTimeout(timer)
  await consumer.disconnect()
  console.log(JSON.stringify({ seen }))
}
main().catch(e => { console.error(`ERR ${e.name}: ${e.message}`); process.exit(1) })
