package io.asyncroutes.api;

import java.io.IOException;
import java.io.Writer;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.catalina.connector.Request;
import org.apache.catalina.connector.Response;
import org.apache.catalina.valves.ErrorReportValve;
import org.apache.coyote.ActionCode;

/**
 * Tomcat's error report in the API's JSON shape. Requests that the servlet container refuses before
 * any servlet runs (an encoded NUL in the path, a malformed request line) are answered by the
 * host's error report valve, which writes an HTML page; this one writes
 * {@code {"error": code, "message": text, "details": []}} like every other error of the API.
 */
public class JsonErrorReportValve extends ErrorReportValve {

    @Override
    protected void report(Request request, Response response, Throwable throwable) {
        int status = response.getStatus();
        if (status < 400 || response.getContentWritten() > 0) {
            return; // not an error, or the application already answered it
        }
        AtomicBoolean ioAllowed = new AtomicBoolean(false);
        response.getCoyoteResponse().action(ActionCode.IS_IO_ALLOWED, ioAllowed);
        if (!ioAllowed.get()) {
            return;
        }
        String reason = reasonPhrase(status);
        try {
            response.setContentType("application/json");
            response.setCharacterEncoding("UTF-8");
            Writer writer = response.getReporter();
            if (writer != null) {
                writer.write(ApiError.body(reason.toLowerCase().replace(' ', '_'), reason, List.of()));
                response.finishResponse();
            }
        } catch (IOException | IllegalStateException e) {
            // the client is gone or the response is committed: nothing more to say
        }
    }

    private static String reasonPhrase(int status) {
        org.springframework.http.HttpStatus known = org.springframework.http.HttpStatus.resolve(status);
        return known != null ? known.getReasonPhrase() : "Error " + status;
    }
}
