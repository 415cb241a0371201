package io.asyncroutes.chat;

import com.fasterxml.jackson.databind.JsonNode;
import io.asyncroutes.support.Json;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A local OpenAI-compatible chat server for the tests and the SSE benchmark. A small HTTP/1.1
 * server on a raw socket (so it can drop a connection mid-stream, which a real crashed upstream
 * does): {@code POST /v1/chat/completions} answers chunk events on a schedule chosen by the model
 * name, and records when each chunk left it and whether the client hung up.
 *
 * <ul>
 *   <li>{@code words-N-D}: N chunks ("w1 ", "w2 ", ...), D ms apart, then {@code [DONE]}</li>
 *   <li>{@code fail-K-words-N-D}: the first K requests of this model answer 503, then as above</li>
 *   <li>{@code break-N-D}: N chunks, then the connection is reset mid-stream</li>
 * </ul>
 */
public final class LocalOpenAiServer implements AutoCloseable {

    private static final Pattern MODEL = Pattern.compile("(?:fail-(\\d+)-)?(words|break)-(\\d+)-(\\d+)");

    /** What happened to one streamed request. */
    public static final class Call {
        public final String model;
        /** The request as received: the conversation the client sent. */
        public volatile String request;
        public final List<Long> emittedNanos = new CopyOnWriteArrayList<>();
        public volatile boolean clientGone;
        public volatile boolean finished;

        Call(String model) {
            this.model = model;
        }
    }

    private final ServerSocket server;
    private final ExecutorService connections = Executors.newCachedThreadPool();
    private final ScheduledExecutorService timer = Executors.newScheduledThreadPool(2);
    private final Map<String, AtomicInteger> requestsPerModel = new ConcurrentHashMap<>();
    private final List<Call> calls = new CopyOnWriteArrayList<>();

    public LocalOpenAiServer() throws IOException {
        server = new ServerSocket(0, 512, InetAddress.getLoopbackAddress());
        connections.submit(this::acceptLoop);
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + server.getLocalPort() + "/v1";
    }

    public int requests(String model) {
        return requestsPerModel.getOrDefault(model, new AtomicInteger()).get();
    }

    public List<Call> calls(String model) {
        return calls.stream().filter(c -> c.model.equals(model)).toList();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                socket.setTcpNoDelay(true);
                connections.submit(() -> serve(socket));
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void serve(Socket socket) {
        try {
            InputStream in = new BufferedInputStream(socket.getInputStream());
            String requestLine = line(in);
            int length = 0;
            for (String header = line(in); !header.isEmpty(); header = line(in)) {
                if (header.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                    length = Integer.parseInt(header.substring(15).trim());
                }
            }
            JsonNode request = Json.MAPPER.readTree(in.readNBytes(length));
            OutputStream out = socket.getOutputStream();
            if (!requestLine.startsWith("POST /v1/chat/completions")) {
                respond(socket, 404, "{\"error\":{\"message\":\"not found\"}}");
                return;
            }
            String model = request.path("model").asText("words-3-10");
            int seen = requestsPerModel.computeIfAbsent(model, k -> new AtomicInteger()).incrementAndGet();
            Matcher m = MODEL.matcher(model);
            if (!m.matches()) {
                respond(socket, 404, "{\"error\":{\"message\":\"model not found\",\"type\":\"invalid_request_error\"}}");
                return;
            }
            if (m.group(1) != null && seen <= Integer.parseInt(m.group(1))) {
                respond(socket, 503, "{\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}");
                return;
            }
            Call call = new Call(model);
            call.request = request.toString();
            calls.add(call);
            out.write(("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n"
                    + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            emit(socket, call, 1, Integer.parseInt(m.group(3)), Long.parseLong(m.group(4)), m.group(2).equals("break"));
        } catch (IOException e) {
            close(socket);
        }
    }

    /** Writes chunk i now and schedules the next one: the upstream's own pacing, no thread parked. */
    private void emit(Socket socket, Call call, int i, int chunks, long delay, boolean breakOff) {
        try {
            OutputStream out = socket.getOutputStream();
            if (i <= chunks) {
                chunk(out, event(call.model, "w" + i + " ", null));
                call.emittedNanos.add(System.nanoTime());
                timer.schedule(() -> emit(socket, call, i + 1, chunks, delay, breakOff), delay, TimeUnit.MILLISECONDS);
                return;
            }
            if (breakOff) {
                socket.setSoLinger(true, 0); // reset: the client sees the stream die mid-way
                close(socket);
                return;
            }
            chunk(out, event(call.model, null, "stop"));
            chunk(out, "data: [DONE]\n\n");
            out.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            call.finished = true;
            close(socket);
        } catch (IOException e) {
            call.clientGone = true;
            close(socket);
        }
    }

    private static void chunk(OutputStream out, String data) throws IOException {
        byte[] bytes = data.getBytes(StandardCharsets.UTF_8);
        out.write((Integer.toHexString(bytes.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(bytes);
        out.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    private static String event(String model, String content, String finish) {
        var delta = Json.MAPPER.createObjectNode();
        if (content != null) {
            delta.put("content", content);
        }
        var choice = Json.MAPPER.createObjectNode().put("index", 0);
        choice.set("delta", delta);
        if (finish == null) {
            choice.putNull("finish_reason");
        } else {
            choice.put("finish_reason", finish);
        }
        var event = Json.MAPPER.createObjectNode().put("id", "chatcmpl-local").put("object", "chat.completion.chunk")
                .put("created", 1).put("model", model);
        event.putArray("choices").add(choice);
        return "data: " + event + "\n\n";
    }

    private static void respond(Socket socket, int status, String json) throws IOException {
        byte[] body = json.getBytes(StandardCharsets.UTF_8);
        OutputStream out = socket.getOutputStream();
        out.write(("HTTP/1.1 " + status + " X\r\nContent-Type: application/json\r\nContent-Length: " + body.length
                + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(body);
        out.flush();
        close(socket);
    }

    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b >= 0 && b != '\n'; b = in.read()) {
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.US_ASCII);
    }

    private static void close(Socket socket) {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        timer.shutdownNow();
        connections.shutdownNow();
    }
}
