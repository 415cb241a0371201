package io.asyncroutes.support;

import static org.assertj.core.api.Assertions.assertThat;

import io.asyncroutes.message.Headers;
import java.util.UUID;
import org.apache.camel.CamelContext;
import org.apache.camel.ConsumerTemplate;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.builder.AdviceWith;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;

/**
 * A message that fails for good after handling has reshaped it is dead-lettered as it arrived:
 * its own body and headers, not the result object it had become, with the reason. The intake
 * routes keep the arriving message themselves ({@link SharedRouteConfigurations}), so Camel does
 * not copy the message of every exchange of the context for {@code useOriginalMessage}.
 */
class DeadLetterCarriesArrivedMessageTest extends FaultInjectionTest {

    @Autowired
    CamelContext camel;
    @Autowired
    ProducerTemplate producer;
    @Autowired
    ConsumerTemplate consumer;

    @Test
    void aMessageFailingMidHandlingIsDeadLetteredAsItArrived() throws Exception {
        // order-by-thread runs after handle-message turned the JSON into a MessageResult
        AdviceWith.adviceWith(camel, "order-by-thread", route -> route.weaveAddFirst().process(exchange -> {
            String id = exchange.getMessage().getHeader(Headers.MESSAGE_ID, String.class);
            if (id != null && id.startsWith("fails-mid-handling-")) {
                throw new IllegalStateException("injected failure");
            }
        }));
        String marker = UUID.randomUUID().toString();
        String json = "{\"id\":\"fails-mid-handling-" + marker + "\",\"threadId\":\"dlq\",\"content\":\"as sent\"}";

        producer.sendBodyAndHeader("jms:queue:ar.in", json, "testMarker", marker);

        Exchange dead = consumer.receive("jms:queue:ar.dead-letter?selector=testMarker='" + marker + "'", 20_000);
        assertThat(dead).as("dead letter").isNotNull();
        assertThat(dead.getMessage().getBody(String.class)).isEqualTo(json);
        assertThat(dead.getMessage().getHeader(Headers.DEAD_LETTER_REASON, String.class))
                .startsWith("unexpected_error").contains("injected failure");
        assertThat(dead.getMessage().getHeader(Headers.DEAD_LETTER_ROUTE, String.class)).isEqualTo("intake-queue");
        // the headers it arrived with, none that handling added
        assertThat(dead.getMessage().getHeader(Headers.MESSAGE_ID)).isNull();
        assertThat(camel.isAllowUseOriginalMessage()).as("no context-wide copy of every message").isFalse();
    }
}
