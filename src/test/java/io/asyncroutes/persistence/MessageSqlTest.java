package io.asyncroutes.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class MessageSqlTest {

    /** camel-sql is told the insert's parameter count instead of asking the driver for every write: it must stay true. */
    @Test
    void theInsertsParameterCountIsTheNumberOfItsNamedParameters() {
        assertThat(Pattern.compile(":#\\w+").matcher(MessageSql.INSERT).results().count())
                .isEqualTo(MessageSql.INSERT_PARAMETERS);
    }
}
