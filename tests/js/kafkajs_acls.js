// kafkajs meeting ACLs: one attempt of one thing a client does, refused or allowed by the broker's ACLs.
// Usage: node kafkajs_acls.js BOOTSTRAP SASL ACTION TOPIC [NAME]
// SASL (JSON): kafkajs' sasl option. ACTION: produce (to partition 0 of TOPIC), consume (one record of TOPIC
// in group NAME), transaction (a committed one of transactional id NAME), idempotent (an idempotent produce).
// Prints one JSON line: {"ok": true}, or {"error": <error name>, "message": <message>, "type": <Kafka's error type>}.
const { Kafka, logLevel } = require('kafkajs')
const [bootstrap, saslJson, action, topic, name] = process.argv.slice(2)
const kafka = new Kafka({ clientId: 'kafkette-acls', brokers: [bootstrap], logLevel: logLevel.NOTHING,
                          sasl: JSON.parse(saslJson), retry: { retries: 1, initialRetryTime: 50 } })
async function produce(options) {
  const producer = kafka.producer(options)
  await producer.connect()
  try {
    await producer.send({ topic: topic, messages: [{ value: 'v', partition: 0 }] })
  } finally { await producer.disconnect() }
}
async function consume() {
  const consumer = kafka.consumer({ groupId: name })
  await consumer.connect()
  try {
    await consumer.subscribe({ topic: topic, fromBeginning: true })
    await new Promise((resolve, reject) => {
      consumer.on(consumer.events.CRASH, ({ payload }) => reject(payload.error))
      consumer.run({ eachMessage: async () => resolve() }).catch(reject)
      setTimeout(() => reject(new Error('nothing consumed within 15 s')), 15000)
    })
  } finally { await consumer.disconnect() }
}
async function transaction() {
  const producer = kafka.producer({ transactionalId: name, maxInFlightRequests: 1, idempotent: true })
  await producer.connect()
  try {
    const txn = await producer.transaction()
    await txn.send({ topic: topic, messages: [{ value: 'in-txn', partition: 0 }] })
    await txn.commit()
  } finally { await producer.disconnect() }
}
const actions = { produce: () => produce({}), consume, transaction,
                  idempotent: () => produce({ idempotent: true, maxInFlightRequests: 1 }) }
actions[action]().then(() => { console.log(JSON.stringify({ ok: true })); process.exit(0) },
  e => { const cause = e.originalError || e.cause
         console.log(JSON.stringify({ error: e.name, message: e.message, type: e.type,
                                      cause: cause && { error: cause.name, message: cause.message, type: cause.type } }))
         process.exit(0) })
