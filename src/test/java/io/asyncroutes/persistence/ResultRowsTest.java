package io.asyncroutes.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Rows from persist-queue messages: single results, hand-off batches, and what is refused. */
class ResultRowsTest {

    private static final String A = "{\"id\":\"a\",\"threadId\":\"t\",\"seq\":1,\"status\":\"processed\","
            + "\"receivedAt\":\"2026-12-03T07:46:00.561123Z\",\"processedAt\":\"2026-12-03T07:46:00.6Z\",\"content\":\"x\"}";
    private static final String B = "{ \"id\" : \"b\", \"threadId\":\"t\", \"status\":\"late\", \"content\":\"[,]\\\"}\" }";

    @Test
    void aBatchElementIsStoredAsItsOwnTextAndItsColumnsAreRead() {
        List<Map<String, Object>> rows = ResultRows.of("[" + A + " ,\n " + B + "]");
        assertThat(rows).hasSize(2);
        assertThat(rows.get(0)).containsEntry("id", "a").containsEntry("seq", 1L).containsEntry("status", "processed")
                .containsEntry("result", A)
                .containsEntry("receivedAt", Timestamp.from(Instant.parse("2026-12-03T07:46:00.561123Z")))
                .containsEntry("processedAt", Timestamp.from(Instant.parse("2026-12-03T07:46:00.6Z")));
        // the text as it arrived, whitespace and escapes included, never a re-serialized copy
        assertThat(rows.get(1)).containsEntry("id", "b").containsEntry("result", B).containsEntry("seq", null)
                .containsEntry("receivedAt", null);
    }

    @Test
    void aSingleResultIsOneRow() {
        assertThat(ResultRows.of(A)).singleElement().satisfies(row -> assertThat(row).containsEntry("result", A));
    }

    @ParameterizedTest
    @ValueSource(strings = {"2026-02-30T07:46:00Z", "2026-12-03T25:00:00Z", "2026-12-03 07:46:00Z", "yesterday"})
    void whatIsNotAnInstantIsRefusedWithItsField(String text) {
        assertThatThrownBy(() -> ResultRows.of(A.replace("2026-12-03T07:46:00.561123Z", text)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("receivedAt is not an ISO-8601 instant");
    }

    @Test
    void badMessagesAreRefusedWithTheReason() {
        assertThatThrownBy(() -> ResultRows.of("[]")).hasMessage("an empty batch");
        assertThatThrownBy(() -> ResultRows.of("[" + A)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not JSON");
        assertThatThrownBy(() -> ResultRows.of("[" + A + "] x")).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("not JSON");
        assertThatThrownBy(() -> ResultRows.of("[" + A + ",{\"id\":\"c\"}]")).hasMessage("batch element 1: id, threadId and status are required");
        assertThatThrownBy(() -> ResultRows.of("[" + A + ",7]")).hasMessage("batch element 1: id, threadId and status are required");
        assertThatThrownBy(() -> ResultRows.of("{\"id\":\"a\",\"id\":\"b\"}")).hasMessageContaining("Duplicate field");
        assertThatThrownBy(() -> ResultRows.of(A.replace("\"seq\":1", "\"seq\":\"one\""))).hasMessage("seq must be an integer");
    }
}
