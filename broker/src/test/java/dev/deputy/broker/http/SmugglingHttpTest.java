package dev.deputy.broker.http;

import dev.deputy.broker.testing.ConfigFixture;
import dev.deputy.broker.testing.TestBroker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Request smuggling at the HTTP/1.1 framing layer (issue 14, finding 5). RFC 9112 §6.3: when Transfer-Encoding is
 * present and {@code chunked} is not the final coding, the server MUST answer 400 and close the connection. Netty
 * before 4.2.18 read {@code chunked, xchunked} as chunked, so a front proxy and Deputy could disagree on where a
 * request ends. Raw sockets, since every HTTP client library refuses to send such framing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SmugglingHttpTest {
    @TempDir
    static Path tmp;
    TestBroker broker;

    @BeforeAll
    void start() throws Exception {
        Path config = ConfigFixture.copyOfShipped(Files.createDirectories(tmp.resolve("config")));
        broker = TestBroker.builder(tmp.resolve("data"), config).start();
    }

    @AfterAll
    void stop() {
        if (broker != null) {
            broker.close();
        }
    }

    /**
     * Sends raw bytes and reads every answer until the server closes the connection (each request sequence
     * below ends in {@code Connection: close}, so a server that keeps reading also closes in the end).
     */
    private String raw(String request) throws IOException {
        try (Socket s = new Socket("127.0.0.1", broker.port())) {
            s.setSoTimeout(20_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            try {
                in.transferTo(all);
            } catch (java.net.SocketException e) {
                // a reset after the 400 is a close too
            }
            return all.toString(StandardCharsets.ISO_8859_1);
        }
    }

    private static int status(String response) {
        assertTrue(response.startsWith("HTTP/1.1 "), "not an HTTP response: " + response);
        return Integer.parseInt(response.substring(9, 12));
    }

    private static int responses(String all) {
        int n = 0;
        for (int i = all.indexOf("HTTP/1.1 "); i >= 0; i = all.indexOf("HTTP/1.1 ", i + 1)) {
            n++;
        }
        return n;
    }

    @Test
    void chunkedNotLastIsRefused() throws Exception {
        // a sane request first: the same path answers 200 when framed correctly
        String ok = raw("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        assertEquals(200, status(ok), ok);

        // "chunked, xchunked": chunked is not the final coding -> 400 (RFC 9112 §6.3), and the smuggled second
        // request inside the "body" is never answered
        String smuggled = raw("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Transfer-Encoding: chunked, xchunked\r\n\r\n"
                + "0\r\n\r\n"
                + "GET /.well-known/oauth-authorization-server/t/demo HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Connection: close\r\n\r\n");
        assertEquals(400, status(smuggled), smuggled);
        assertEquals(1, responses(smuggled), smuggled);
    }

    @Test
    void unknownCodingAloneIsRefused() throws Exception {
        String r = raw("POST /t/demo/token HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Content-Type: application/x-www-form-urlencoded\r\n"
                + "Transfer-Encoding: xchunked\r\n\r\n"
                + "0\r\n\r\n"
                + "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        assertEquals(400, status(r), r);
        assertEquals(1, responses(r), r);
    }

    @Test
    void contentLengthWithChunkedIsRefused() throws Exception {
        // RFC 9112 §6.1 / §6.3: both headers -> a server MAY process as chunked but MUST then close; Netty refuses it
        String r = raw("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
                + "0\r\n\r\n"
                + "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        assertEquals(400, status(r), r);
        assertEquals(1, responses(r), r);
    }
}
