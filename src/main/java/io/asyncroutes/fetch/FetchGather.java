package io.asyncroutes.fetch;

import com.fasterxml.jackson.databind.JsonNode;
import io.asyncroutes.message.ExchangeProperties;
import io.asyncroutes.support.SharedRouteConfigurations;
import io.asyncroutes.support.TransientErrors;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.camel.AggregationStrategy;
import org.apache.camel.Exchange;

/**
 * The {@code asyncio.gather(..., return_exceptions=True)} of the split: every URL gets exactly one
 * entry, at its input position, holding its value or its error. A failed item never fails the
 * others (its exception is turned into an error entry and cleared), and items still running when
 * the deadline passes are reported as {@value FetchItem#DEADLINE_EXCEEDED}.
 */
public class FetchGather implements AggregationStrategy {

    @Override
    public Exchange aggregate(Exchange gathered, Exchange item) {
        Exchange target = gathered != null ? gathered : item;
        JsonNode[] items = items(target, item);
        int index = item.getProperty(Exchange.SPLIT_INDEX, Integer.class);
        items[index] = item.getException() == null
                ? item.getMessage().getBody(JsonNode.class)
                : errorItem(item);
        item.setException(null);
        return target;
    }

    @Override
    public void timeout(Exchange gathered, int index, int total, long timeout) {
        // nothing to do now: onCompletion fills every entry that never arrived
    }

    @Override
    public void onCompletion(Exchange gathered, Exchange original) {
        Exchange target = gathered != null ? gathered : original;
        List<String> urls = urls(original != null ? original : target);
        JsonNode[] items = target.getProperty(ExchangeProperties.FETCH_ITEMS, JsonNode[].class);
        if (items == null) {
            items = new JsonNode[urls.size()];
        }
        long started = target.getProperty(ExchangeProperties.FETCH_STARTED, System.currentTimeMillis(), Long.class);
        long millis = System.currentTimeMillis() - started;
        for (int i = 0; i < items.length; i++) {
            if (items[i] == null) {
                items[i] = FetchItem.error(urls.get(i), null, FetchItem.DEADLINE_EXCEEDED, 0, millis);
            }
        }
        target.getMessage().setBody(new ArrayList<>(Arrays.asList(items)));
        target.removeProperty(ExchangeProperties.FETCH_ITEMS);
        target.setException(null);
    }

    private static JsonNode[] items(Exchange target, Exchange item) {
        JsonNode[] items = target.getProperty(ExchangeProperties.FETCH_ITEMS, JsonNode[].class);
        if (items == null) {
            items = new JsonNode[urls(item).size()];
            target.setProperty(ExchangeProperties.FETCH_ITEMS, items);
        }
        return items;
    }

    @SuppressWarnings("unchecked")
    private static List<String> urls(Exchange exchange) {
        return exchange.getProperty(ExchangeProperties.FETCH_URLS, List.class);
    }

    private static JsonNode errorItem(Exchange item) {
        Exception e = item.getException();
        String url = urls(item).get(item.getProperty(Exchange.SPLIT_INDEX, Integer.class));
        Integer attempts = item.getMessage().getHeader(Exchange.REDELIVERY_COUNTER, 0, Integer.class) + 1;
        // timed to the failure, not to now: parallel results are gathered in input order, later
        long failedAt = item.getProperty(ExchangeProperties.FAILED_AT, System.currentTimeMillis(), Long.class);
        long started = item.getProperty(ExchangeProperties.FETCH_ITEM_STARTED, failedAt, Long.class);
        Integer status = e instanceof UpstreamStatusException s ? s.status() : null;
        return FetchItem.error(url, status, describe(e), attempts, failedAt - started);
    }

    /** A short, stable reason: what a client can act on, without a stack trace. */
    public static String describe(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SsrfGuard.RefusedTarget || t instanceof UpstreamStatusException
                    || t instanceof FetchResponseException) {
                return t.getMessage();
            }
            // SocketTimeoutException, and HttpClient's ConnectTimeoutException
            if (t instanceof java.io.InterruptedIOException) {
                return "timeout: " + t.getMessage();
            }
            if (t instanceof java.net.ConnectException) {
                return "connection refused";
            }
            if (t instanceof java.net.UnknownHostException) {
                return "unknown host: " + t.getMessage();
            }
        }
        return (TransientErrors.isTransient(e) ? "transient error: " : "error: ") + e.getMessage();
    }
}
