package io.asyncroutes.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.asyncroutes.intake.MessageValidator;
import io.asyncroutes.support.Json;
import io.asyncroutes.support.RejectedInputException;
import java.io.IOException;
import java.io.InputStream;
import java.util.Locale;
import org.apache.camel.Exchange;
import org.apache.camel.Message;

/**
 * JSON over HTTP for the REST routes: reading a request body (media type, size, UTF-8) and writing
 * a response (status, content type, body) in one place each.
 */
public final class HttpJson {

    private HttpJson() {
    }

    /**
     * The request body as text: 415 unless the content type is JSON, 413 above {@code maxBytes}
     * (declared or read), 400 unless UTF-8.
     */
    public static String readBody(Exchange exchange, int maxBytes) throws IOException {
        Message in = exchange.getMessage();
        String contentType = in.getHeader(Exchange.CONTENT_TYPE, String.class);
        if (contentType == null || !isJson(contentType)) {
            throw new RejectedInputException(415, "unsupported_media_type", "Content-Type must be application/json");
        }
        Long declared = in.getHeader(Exchange.CONTENT_LENGTH, Long.class);
        if (declared != null && declared > maxBytes) {
            throw tooLarge(maxBytes);
        }
        Object body = in.getBody();
        // read one byte past the limit: enough to know it is too large, never the whole of a huge body
        byte[] bytes = body instanceof InputStream stream ? stream.readNBytes(maxBytes + 1) : in.getBody(byte[].class);
        if (bytes == null) {
            bytes = new byte[0];
        }
        if (bytes.length > maxBytes) {
            throw tooLarge(maxBytes);
        }
        return MessageValidator.utf8(bytes);
    }

    /** Parses JSON text; 400 {@code invalid_json} if it is not. */
    public static JsonNode parse(String json) {
        try {
            return Json.MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw RejectedInputException.invalidJson(e.getOriginalMessage());
        }
    }

    /** Ends the exchange with a JSON response; nothing of the request's headers goes back. */
    public static void respond(Exchange exchange, int status, Object json) {
        Message out = exchange.getMessage();
        out.removeHeaders("*");
        out.setHeader(Exchange.HTTP_RESPONSE_CODE, status);
        out.setHeader(Exchange.CONTENT_TYPE, "application/json");
        out.setBody(json);
    }

    static boolean isJson(String contentType) {
        String type = contentType.split(";", 2)[0].trim().toLowerCase(Locale.ROOT);
        return type.equals("application/json") || (type.startsWith("application/") && type.endsWith("+json"));
    }

    private static RejectedInputException tooLarge(int max) {
        return new RejectedInputException(413, "payload_too_large", "request body is larger than " + max + " bytes");
    }
}
