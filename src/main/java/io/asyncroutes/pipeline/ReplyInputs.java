package io.asyncroutes.pipeline;

import io.asyncroutes.message.ExchangeProperties;
import io.asyncroutes.message.Headers;
import io.asyncroutes.message.MessageResult;
import org.apache.camel.AggregationStrategy;
import org.apache.camel.Exchange;

/**
 * Gathers what a reply needs from the branches of {@code handle-message}'s multicast into one
 * exchange: the fetched context (the {@code fetch-context} branch's result) and the thread's
 * history turns (the {@code read-history} branch's {@link ExchangeProperties#REPLY_HISTORY} property). A
 * branch that failed fails the gathering: the message goes back to the broker like any other
 * failure of a dependency.
 */
public class ReplyInputs implements AggregationStrategy {

    @Override
    public Exchange aggregate(Exchange gathered, Exchange branch) {
        Exchange into = gathered != null ? gathered : branch;
        if (branch.getException() != null && into.getException() == null) {
            into.setException(branch.getException());
        }
        Object history = branch.getProperty(ExchangeProperties.REPLY_HISTORY);
        if (history != null) {
            into.setProperty(ExchangeProperties.REPLY_HISTORY, history);
        }
        MessageResult fromBranch = branch.getMessage().getBody(MessageResult.class);
        MessageResult result = into.getMessage().getBody(MessageResult.class);
        if (fromBranch != null && result != null && fromBranch != result && !fromBranch.getContext().isEmpty()) {
            result.setContext(fromBranch.getContext());
        }
        return into;
    }
}
