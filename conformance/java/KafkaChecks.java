// The reference Java client (kafka-clients) against a broker: `java KafkaChecks SCENARIO BOOTSTRAP NAME`.
// Each scenario uses names starting with NAME and prints what it observed as `key=value` lines, which
// conformance/test_java_client.py compares between Apache Kafka and kafkette. Every wait is bounded.
import java.time.Duration;
import java.util.*;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import org.apache.kafka.clients.admin.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.producer.*;
import org.apache.kafka.common.*;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

public class KafkaChecks {
    static String bootstrap;
    static String name;

    public static void main(String[] args) throws Exception {
        bootstrap = args[1];
        name = args[2];
        switch (args[0]) {
            case "transactions": transactions(); break;
            case "fencing": fencing(); break;
            case "timeout": timeout(); break;
            case "eos-classic": eos("classic"); break;
            case "eos-consumer": eos("consumer"); break;
            case "admin": admin(); break;
            case "open-transaction": openTransaction(); break;
            default: throw new IllegalArgumentException("unknown scenario " + args[0]);
        }
        System.out.flush();
        System.exit(0);
    }

    static void out(String key, Object value) {
        System.out.println("check " + key + "=" + value);
    }

    static Admin admin(Map<String, Object> extra) {
        Map<String, Object> conf = new HashMap<>(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30000));
        conf.putAll(extra);
        return Admin.create(conf);
    }

    static void createTopics(Admin admin, int partitions, String... topics) throws Exception {
        List<NewTopic> wanted = Arrays.stream(topics).map(t -> new NewTopic(t, partitions, (short) 1)).collect(Collectors.toList());
        admin.createTopics(wanted).all().get(30, TimeUnit.SECONDS);
        long deadline = System.currentTimeMillis() + 30000;  // until every broker knows them (Kafka: a moment later)
        while (System.currentTimeMillis() < deadline) {
            try {
                admin.describeTopics(Arrays.asList(topics)).allTopicNames().get(10, TimeUnit.SECONDS);
                return;
            } catch (Exception e) {
                Thread.sleep(50);
            }
        }
    }

    static KafkaProducer<String, String> producer(String transactionalId, Map<String, Object> extra) {
        Map<String, Object> conf = new HashMap<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, 30000));
        if (transactionalId != null) conf.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId);
        conf.putAll(extra);
        return new KafkaProducer<>(conf);
    }

    static KafkaConsumer<String, String> consumer(String group, Map<String, Object> extra) {
        Map<String, Object> conf = new HashMap<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false));
        if (group != null) conf.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        conf.putAll(extra);
        return new KafkaConsumer<>(conf);
    }

    /** Values a read_committed consumer reads from the start of `partitions`, sorted; at most `expected`. */
    static List<String> readCommitted(Collection<TopicPartition> partitions, int expected) {
        List<String> seen = new ArrayList<>();
        try (KafkaConsumer<String, String> c = consumer(null, Map.of())) {
            c.assign(partitions);
            c.seekToBeginning(partitions);
            long deadline = System.currentTimeMillis() + 15000;
            while (seen.size() < expected && System.currentTimeMillis() < deadline)
                for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(200))) seen.add(r.value());
            // a little longer: anything beyond `expected` (aborted data) would show here
            for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) seen.add(r.value());
        }
        Collections.sort(seen);
        return seen;
    }

    static String failure(Runnable action) {
        try {
            action.run();
            return "none";
        } catch (KafkaException e) {
            return e.getClass().getSimpleName();
        }
    }

    // ------------------------------------------------------------------------------------ transactions

    static void transactions() throws Exception {
        String a = name + "-a", b = name + "-b";
        try (Admin admin = admin(Map.of())) {
            createTopics(admin, 2, a, b);
        }
        try (KafkaProducer<String, String> p = producer(name + "-tid", Map.of())) {
            p.initTransactions();
            p.beginTransaction();
            for (int i = 0; i < 8; i++) p.send(new ProducerRecord<>(i % 2 == 0 ? a : b, i % 2, null, "committed-" + i));
            p.commitTransaction();
            p.beginTransaction();
            for (int i = 0; i < 8; i++) p.send(new ProducerRecord<>(i % 2 == 0 ? a : b, i % 2, null, "aborted-" + i));
            p.flush();
            p.abortTransaction();
        }
        List<TopicPartition> all = List.of(new TopicPartition(a, 0), new TopicPartition(a, 1), new TopicPartition(b, 0),
                new TopicPartition(b, 1));
        out("read_committed", readCommitted(all, 8));
    }

    static void fencing() throws Exception {
        String topic = name;
        try (Admin admin = admin(Map.of())) {
            createTopics(admin, 1, topic);
        }
        KafkaProducer<String, String> first = producer(name + "-tid", Map.of());
        first.initTransactions();
        first.beginTransaction();
        first.send(new ProducerRecord<>(topic, "from-first")).get(30, TimeUnit.SECONDS);
        try (KafkaProducer<String, String> second = producer(name + "-tid", Map.of())) {
            second.initTransactions();  // fences the first and aborts its transaction
            out("first_commit_after_fencing", failure(first::commitTransaction));
            out("first_send_after_fencing", failure(() -> {
                try {
                    first.send(new ProducerRecord<>(topic, "late")).get(30, TimeUnit.SECONDS);
                } catch (java.util.concurrent.ExecutionException e) {
                    throw (KafkaException) (e.getCause() instanceof KafkaException ? e.getCause() : new KafkaException(e));
                } catch (Exception e) {
                    throw new KafkaException(e);
                }
            }));
            first.close(Duration.ofSeconds(5));
            second.beginTransaction();
            second.send(new ProducerRecord<>(topic, "from-second"));
            second.commitTransaction();
        }
        out("read_committed", readCommitted(List.of(new TopicPartition(topic, 0)), 1));
    }

    static void timeout() throws Exception {
        String topic = name;
        try (Admin admin = admin(Map.of())) {
            createTopics(admin, 1, topic);
        }
        try (KafkaProducer<String, String> p = producer(name + "-tid", Map.of(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 2000))) {
            p.initTransactions();
            p.beginTransaction();
            p.send(new ProducerRecord<>(topic, "stalled")).get(30, TimeUnit.SECONDS);
            Thread.sleep(5000);  // past transaction.timeout.ms: the broker aborts the transaction
            out("commit_after_timeout", failure(p::commitTransaction));
            String abort = failure(p::abortTransaction);
            out("abort_after_that", abort);
            if (abort.equals("none")) {  // an abortable error: the producer goes on with a new transaction
                p.beginTransaction();
                p.send(new ProducerRecord<>(topic, "after"));
                out("next_transaction", failure(p::commitTransaction));
            }
        }
        out("read_committed", readCommitted(List.of(new TopicPartition(topic, 0)), 1));
    }

    // ------------------------------------------------------------------------------------ consume-transform-produce

    static void eos(String protocol) throws Exception {
        String in = name + "-in", outTopic = name + "-out", group = name + "-group";
        int count = 30;
        try (Admin admin = admin(Map.of())) {
            createTopics(admin, 2, in, outTopic);
        }
        try (KafkaProducer<String, String> p = producer(null, Map.of())) {
            for (int i = 0; i < count; i++) p.send(new ProducerRecord<>(in, i % 2, null, "m" + i));
        }
        int processed = 0;
        try (KafkaConsumer<String, String> c = consumer(group, Map.of(ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol));
             KafkaProducer<String, String> p = producer(name + "-tid", Map.of())) {
            p.initTransactions();
            c.subscribe(List.of(in));
            long deadline = System.currentTimeMillis() + 45000;
            while (processed < count && System.currentTimeMillis() < deadline) {
                ConsumerRecords<String, String> records = c.poll(Duration.ofMillis(200));
                if (records.isEmpty()) continue;
                p.beginTransaction();
                Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
                for (ConsumerRecord<String, String> r : records) {
                    p.send(new ProducerRecord<>(outTopic, r.partition(), null, "out-" + r.value()));
                    offsets.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1));
                    processed++;
                }
                p.sendOffsetsToTransaction(offsets, c.groupMetadata());
                p.commitTransaction();
            }
        }
        out("processed", processed);
        out("output", readCommitted(List.of(new TopicPartition(outTopic, 0), new TopicPartition(outTopic, 1)), count).size());
        try (Admin admin = admin(Map.of())) {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            out("committed", new TreeMap<>(committed.entrySet().stream().collect(Collectors.toMap(
                    e -> e.getKey().partition(), e -> e.getValue().offset()))));
        }
    }

    // ------------------------------------------------------------------------------------ admin

    /** A transaction left open (for the admin and tools checks): prints its producer id and the partition. */
    static void openTransaction() throws Exception {
        try (Admin admin = admin(Map.of())) {
            createTopics(admin, 1, name);
        }
        KafkaProducer<String, String> p = producer(name + "-tid", Map.of(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, 600000));
        p.initTransactions();
        p.beginTransaction();
        p.send(new ProducerRecord<>(name, 0, null, "open")).get(30, TimeUnit.SECONDS);
        out("open", name + "-tid");
        // exit without closing: the transaction stays open on the broker
        System.out.flush();
        Runtime.getRuntime().halt(0);
    }

    static void admin() throws Exception {
        String topic = name, group = name + "-group", tid = name + "-tid";
        try (Admin admin = admin(Map.of())) {
            createTopics(admin, 2, topic);
            try (KafkaProducer<String, String> p = producer(tid, Map.of())) {
                p.initTransactions();
                p.beginTransaction();
                p.send(new ProducerRecord<>(topic, 0, null, "v")).get(30, TimeUnit.SECONDS);
                TransactionListing listing = admin.listTransactions().all().get(30, TimeUnit.SECONDS).stream()
                        .filter(t -> t.transactionalId().equals(tid)).findFirst().orElse(null);
                out("listTransactions", listing == null ? "missing" : listing.state());
                TransactionDescription d = admin.describeTransactions(List.of(tid)).description(tid).get(30, TimeUnit.SECONDS);
                out("describeTransactions", d.state() + " " + d.topicPartitions() + " timeout=" + d.transactionTimeoutMs());
                DescribeProducersResult.PartitionProducerState ps = admin.describeProducers(List.of(new TopicPartition(topic, 0)))
                        .partitionResult(new TopicPartition(topic, 0)).get(30, TimeUnit.SECONDS);
                ProducerState state = ps.activeProducers().get(0);
                out("describeProducers", ps.activeProducers().size() + " txnStart=" + state.currentTransactionStartOffset()
                        + " epoch=" + state.producerEpoch() + " lastSequence=" + state.lastSequence());
                admin.abortTransaction(new AbortTransactionSpec(new TopicPartition(topic, 0), state.producerId(),
                        (short) state.producerEpoch(), state.coordinatorEpoch().orElse(-1))).all().get(30, TimeUnit.SECONDS);
                DescribeProducersResult.PartitionProducerState after = admin.describeProducers(List.of(new TopicPartition(topic, 0)))
                        .partitionResult(new TopicPartition(topic, 0)).get(30, TimeUnit.SECONDS);
                out("afterAbortTransaction", after.activeProducers().get(0).currentTransactionStartOffset());
                admin.fenceProducers(List.of(tid)).all().get(30, TimeUnit.SECONDS);
                out("commitAfterFenceProducers", failure(p::commitTransaction));
            }
            try (KafkaConsumer<String, String> c = consumer(group, Map.of())) {
                c.assign(List.of(new TopicPartition(topic, 1)));
                c.commitSync(Map.of(new TopicPartition(topic, 1), new OffsetAndMetadata(0, "meta")));
            }
            admin.alterConsumerGroupOffsets(group, Map.of(new TopicPartition(topic, 0), new OffsetAndMetadata(1)))
                    .all().get(30, TimeUnit.SECONDS);
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            out("listConsumerGroupOffsets", new TreeMap<>(offsets.entrySet().stream().collect(Collectors.toMap(
                    e -> e.getKey().partition(), e -> e.getValue().offset() + "/" + e.getValue().metadata()))));
            TopicDescription td = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
            out("describeTopics", td.name() + " internal=" + td.isInternal() + " partitions=" + td.partitions().stream()
                    .map(p -> p.partition() + ":" + p.leader().id() + ":" + p.replicas().size() + ":" + p.isr().size())
                    .collect(Collectors.toList()));
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            Config config = admin.describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource);
            out("describeConfigs", config.entries().size() + " cleanup.policy=" + config.get("cleanup.policy").value()
                    + " flush.ms=" + config.get("flush.ms").value() + " source=" + config.get("flush.ms").source());
        }
    }
}
