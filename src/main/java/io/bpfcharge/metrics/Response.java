package io.bpfcharge.metrics;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * A whole response: {@code headers} are extra "Name: value" lines; a {@code compressible} one is sent
 * gzipped to a client whose Accept-Encoding takes gzip (see {@link ResponseWriter}).
 */
record Response(int status, String contentType, byte[] body, List<String> headers, boolean compressible) {
    static Response text(int status, String body, String... headers) {
        return new Response(status, "text/plain; charset=utf-8", body.getBytes(StandardCharsets.UTF_8), List.of(headers), false);
    }
}
