package io.asyncroutes.chat;

import io.asyncroutes.support.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * One streamed LLM answer, the seed's {@code stream_llm_response} async generator. Chunks are
 * pushed in by the client callback as they arrive and can be consumed two ways: as a
 * Server-Sent-Events byte stream ({@link #events()}, what {@code POST /api/chat} relays) or as
 * the assembled text ({@link #text(Duration)}, what the pipeline stores).
 *
 * <p>Closing the event stream (the HTTP client went away) cancels the upstream request.
 */
public class ChatStream {

    private static final byte[] DONE = "data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8);
    private static final byte[] END = new byte[0];

    private final StringBuilder text = new StringBuilder();
    private final CompletableFuture<String> completed = new CompletableFuture<>();
    private final CompletableFuture<Void> firstChunk = new CompletableFuture<>();
    private final BlockingQueue<byte[]> frames = new LinkedBlockingQueue<>();
    private final Consumer<String> chunkListener;
    private volatile Runnable cancel = () -> { };
    private volatile boolean consumerGone;
    private int chunks;

    public ChatStream(Consumer<String> chunkListener) {
        this.chunkListener = chunkListener;
    }

    // ---- fed by the client callback -------------------------------------------------------

    void onCancel(Runnable cancel) {
        this.cancel = cancel;
        if (consumerGone) {
            cancel.run();
        }
    }

    synchronized void chunk(String delta) {
        if (delta == null || delta.isEmpty()) {
            return;
        }
        chunks++;
        text.append(delta);
        frames.add(frame(null, Json.MAPPER.createObjectNode().put("content", delta).toString()));
        if (chunkListener != null) {
            chunkListener.accept(delta);
        }
        firstChunk.complete(null);
    }

    synchronized void complete() {
        frames.add(DONE);
        frames.add(END);
        firstChunk.complete(null);
        completed.complete(text.toString());
    }

    synchronized void fail(Throwable error) {
        // before the first chunk the caller may still retry the whole request (with a new stream)
        firstChunk.completeExceptionally(error);
        frames.add(frame("error", Json.MAPPER.createObjectNode()
                .put("error", "upstream_error").put("message", String.valueOf(error.getMessage())).toString()));
        frames.add(END);
        completed.completeExceptionally(error);
    }

    // ---- consumed by routes ---------------------------------------------------------------

    /** Waits for the first chunk (or the end of an empty answer); rethrows a failure that came first. */
    public void awaitFirstChunk(Duration timeout) throws Exception {
        try {
            firstChunk.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        } catch (java.util.concurrent.TimeoutException e) {
            cancel.run();
            throw new java.net.SocketTimeoutException("no first chunk within " + timeout.toMillis() + " ms");
        }
    }

    /** The whole answer, once the upstream finished. */
    public String text(Duration timeout) throws Exception {
        try {
            return completed.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        }
    }

    public int chunkCount() {
        return chunks;
    }

    /**
     * The answer as {@code text/event-stream}: {@code data: {"content": ...}} per chunk, then
     * {@code data: [DONE]}, or an {@code event: error} if the upstream fails mid-stream. Each read
     * returns as soon as one event is there, so the HTTP layer flushes chunk by chunk.
     */
    public InputStream events() {
        return new InputStream() {
            private byte[] current = new byte[0];
            private int position;
            private boolean ended;

            @Override
            public int read() throws IOException {
                byte[] one = new byte[1];
                int n = read(one, 0, 1);
                return n < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                if (ended) {
                    return -1;
                }
                while (position >= current.length) {
                    try {
                        current = frames.take();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IOException("interrupted while waiting for the next chunk", e);
                    }
                    position = 0;
                    if (current == END) {
                        ended = true;
                        return -1;
                    }
                }
                int n = Math.min(length, current.length - position);
                System.arraycopy(current, position, buffer, offset, n);
                position += n;
                return n;
            }

            @Override
            public void close() {
                if (!ended) {
                    // the client went away before the end: stop the upstream
                    consumerGone = true;
                    ended = true;
                    cancel.run();
                }
            }
        };
    }

    private static byte[] frame(String event, String data) {
        String frame = (event == null ? "" : "event: " + event + "\n") + "data: " + data + "\n\n";
        return frame.getBytes(StandardCharsets.UTF_8);
    }
}
