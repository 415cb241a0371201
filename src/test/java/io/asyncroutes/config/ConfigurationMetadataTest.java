package io.asyncroutes.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The configuration metadata that the build generates from {@code AppSettings} and
 * {@code KafkaSettings} (Javadoc as descriptions, field initialisers as defaults) describes every
 * {@code app.*} key of the shipped YAML files, so IDEs complete and explain them, and its defaults
 * are the ones {@code application.yaml} writes down.
 */
class ConfigurationMetadataTest {

    private static final List<String> YAML = List.of("config/application.yaml", "config/application-services.yaml",
            "config/application-kafka.yaml");
    /** Set in application.yaml to something other than the class default, on purpose: the embedded profile's choice. */
    private static final Set<String> PROFILE_VALUES = Set.of("app.redis.embedded");

    private final Map<String, JsonNode> metadata = metadata();

    @Test
    void everyAppKeyOfTheShippedYamlIsDescribed() throws IOException {
        for (String file : YAML) {
            Map<String, Object> keys = appKeys(file);
            assertThat(keys).as("%s has app.* keys", file).isNotEmpty();
            for (String key : keys.keySet()) {
                assertThat(metadata).as("%s: %s is in the configuration metadata", file, key).containsKey(key);
                assertThat(metadata.get(key).path("description").asText())
                        .as("%s: description of %s", file, key).isNotBlank();
            }
        }
    }

    @Test
    void everyDescribedAppKeyHasADescription() {
        assertThat(metadata.keySet()).as("app.* keys in the metadata").hasSizeGreaterThan(80);
        metadata.forEach((key, property) ->
                assertThat(property.path("description").asText()).as("description of %s", key).isNotBlank());
    }

    @Test
    void theClassDefaultsAreTheDefaultsOfApplicationYaml() throws IOException {
        int compared = 0;
        for (Map.Entry<String, Object> entry : appKeys("config/application.yaml").entrySet()) {
            String key = entry.getKey();
            String yaml = String.valueOf(entry.getValue());
            JsonNode generated = metadata.get(key).get("defaultValue");
            if (PROFILE_VALUES.contains(key) || key.startsWith("app.endpoints.") || yaml.contains("${")
                    || generated == null || generated.isArray()) {
                continue; // profile-specific (each profile names its broker), environment-driven, or a list
            }
            String expected = yaml;
            if (generated.isNumber() && entry.getValue() instanceof Number number) {
                assertThat(generated.decimalValue()).as(key).isEqualByComparingTo(new java.math.BigDecimal(number.toString()));
            } else {
                assertThat(generated.asText()).as(key).isEqualTo(expected);
            }
            compared++;
        }
        assertThat(compared).as("defaults compared").isGreaterThan(40);
    }

    private static Map<String, JsonNode> metadata() {
        Map<String, JsonNode> properties = new TreeMap<>();
        // the generated file (the additional one is merged into it by the processor)
        try (InputStream in = ConfigurationMetadataTest.class.getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
            assertThat(in).as("target/classes/META-INF/spring-configuration-metadata.json (configuration processor)").isNotNull();
            for (JsonNode property : new ObjectMapper().readTree(in).path("properties")) {
                String name = property.path("name").asText();
                if (name.startsWith("app.")) {
                    properties.put(name, property);
                }
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return properties;
    }

    private static Map<String, Object> appKeys(String file) throws IOException {
        Map<String, Object> keys = new TreeMap<>();
        try (Reader reader = Files.newBufferedReader(Path.of(file))) {
            Map<String, Object> root = new Yaml().load(reader);
            flatten("app", root.get("app"), keys);
        }
        return keys;
    }

    private static void flatten(String prefix, Object value, Map<String, Object> out) {
        if (value instanceof Map<?, ?> map) {
            map.forEach((k, v) -> flatten(prefix + "." + k, v, out));
        } else {
            out.put(prefix, value);
        }
    }
}
