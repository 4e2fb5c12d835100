import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.server.config.AbstractKafkaConfig;
import org.apache.kafka.server.config.ConfigSynonym;
import org.apache.kafka.server.config.DynamicBrokerConfig;
import org.apache.kafka.server.config.DynamicConfig;
import org.apache.kafka.server.config.ServerTopicConfigSynonyms;

/** Prints, as JSON, Kafka's broker config definitions as this Kafka's jars hold them (see gen_broker_configs.py). */
public class BrokerConfigDump {
    public static void main(String[] args) {
        Map<String, ConfigDef.ConfigKey> keys = new TreeMap<>(AbstractKafkaConfig.CONFIG_DEF.configKeys());
        Set<String> kafkaConfig = Set.copyOf(keys.keySet());
        DynamicConfig.Broker.configKeys().forEach(keys::putIfAbsent);  // the broker quotas: dynamic only
        Map<String, String> modes = DynamicBrokerConfig.dynamicConfigUpdateModes();
        StringBuilder out = new StringBuilder("{\"configs\": [\n");
        String separator = "";
        for (ConfigDef.ConfigKey key : keys.values()) {
            String mode = modes.getOrDefault(key.name, DynamicConfig.Broker.names().contains(key.name) ? "cluster-wide" : null);
            out.append(separator).append("{\"name\": ").append(json(key.name))
                .append(", \"type\": ").append(json(key.type))
                .append(", \"default\": ").append(json(key.hasDefault() ? ConfigDef.convertToString(key.defaultValue, key.type) : null))
                .append(", \"internal\": ").append(key.internalConfig)
                .append(", \"kafka_config\": ").append(kafkaConfig.contains(key.name))
                .append(", \"mode\": ").append(json(mode))
                .append(", \"validator\": ").append(json(key.validator))
                .append(", \"doc\": ").append(json(kafkaConfig.contains(key.name) ? key.documentation : null)).append("}");
            separator = ",\n";
        }
        out.append("],\n\"validation_order\": [");
        separator = "";
        for (String name : DynamicConfig.Broker.configKeys().keySet()) {
            out.append(separator).append(json(name));
            separator = ", ";
        }
        out.append("],\n\"listener_only\": [");
        separator = "";
        for (String name : new java.util.TreeSet<>(DynamicBrokerConfig.DYNAMIC_SECURITY_CONFIGS)) {
            out.append(separator).append(json(name));
            separator = ", ";
        }
        out.append("],\n\"topic_synonyms\": {");
        separator = "";
        for (Map.Entry<String, List<ConfigSynonym>> e : new TreeMap<>(ServerTopicConfigSynonyms.ALL_TOPIC_CONFIG_SYNONYMS).entrySet()) {
            out.append(separator).append(json(e.getKey())).append(": [");
            String inner = "";
            for (ConfigSynonym synonym : e.getValue()) {
                out.append(inner).append("[").append(json(synonym.name())).append(", ").append(json(synonym.converter().apply("1"))).append("]");
                inner = ", ";
            }
            out.append("]");
            separator = ",\n";
        }
        System.out.println(out.append("}}"));
    }

    static String json(Object o) {
        if (o == null) return "null";
        StringBuilder b = new StringBuilder("\"");
        for (char c : o.toString().toCharArray()) {
            if (c == '"' || c == '\\') b.append('\\').append(c);
            else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
            else b.append(c);
        }
        return b.append('"').toString();
    }
}
