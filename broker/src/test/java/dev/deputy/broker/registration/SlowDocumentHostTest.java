package dev.deputy.broker.registration;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 14 finding 7, CIMD side: a document host that trickles its answer cannot hold a lookup past the fetch deadline
 * (checked on every read, headers and body alike); at most N fetches run at once; a failure is remembered briefly.
 * A loopback server plays the host; nothing here depends on how fast the machine is — the trickle never ends, so
 * only the deadline can stop the fetch, and the assertions are on the outcome's reason.
 */
class SlowDocumentHostTest {
    final AtomicInteger accepted = new AtomicInteger();
    ServerSocket server;
    Thread acceptor;

    /** Serves each connection with {@code script} on its own thread until the test ends. */
    int serve(Consumer<OutputStream> script) throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = Thread.ofVirtual().start(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    accepted.incrementAndGet();
                    Thread.ofVirtual().start(() -> {
                        try (s) {
                            script.accept(s.getOutputStream());
                        } catch (IOException | RuntimeException ignored) {
                            // the client hung up
                        }
                    });
                } catch (IOException e) {
                    return;
                }
            }
        });
        return server.getLocalPort();
    }

    @AfterEach
    void stop() throws IOException {
        if (server != null) {
            server.close();
        }
    }

    static void trickle(OutputStream out, String prefix, String forever) {
        try {
            out.write(prefix.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            for (int i = 0; ; i++) {
                out.write(forever.charAt(i % forever.length()));
                out.flush();
                Thread.sleep(100); // well inside any per-read timeout
            }
        } catch (IOException | InterruptedException e) {
            throw new RuntimeException(e);
        }
    }

    SafeFetcher fetcher(Duration timeout) {
        return new SafeFetcher(true, null, timeout);
    }

    @Test
    void tricklingBodyHitsTheDeadline() throws Exception {
        int port = serve(out -> trickle(out, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4000\r\n\r\n",
                "{\"client_id\":\"x\"}"));
        SafeFetcher.FetchException e = assertThrows(SafeFetcher.FetchException.class,
                () -> fetcher(Duration.ofMillis(800)).get(URI.create("http://127.0.0.1:" + port + "/doc.json")));
        assertEquals("timeout", e.reason());
    }

    @Test
    void tricklingChunkedBodyAndHeadersHitTheDeadline() throws Exception {
        int port = serve(out -> trickle(out, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n", "a"));
        assertEquals("timeout", assertThrows(SafeFetcher.FetchException.class,
                () -> fetcher(Duration.ofMillis(800)).get(URI.create("http://127.0.0.1:" + port + "/c.json"))).reason());
        stop();
        int port2 = serve(out -> trickle(out, "HTTP/1.1 200 OK\r\n", "X-Slow: aaaaaaaaaaaaaaaa\r\n"));
        assertEquals("timeout", assertThrows(SafeFetcher.FetchException.class,
                () -> fetcher(Duration.ofMillis(800)).get(URI.create("http://127.0.0.1:" + port2 + "/h.json"))).reason());
    }

    @Test
    void concurrentFetchesAreCappedAndFailuresRemembered() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        int port = serve(out -> {
            try {
                release.await(60, TimeUnit.SECONDS);
                out.write("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            } catch (IOException | InterruptedException e) {
                throw new RuntimeException(e);
            }
        });
        ClientIdMetadataDocuments docs = new ClientIdMetadataDocuments(fetcher(Duration.ofSeconds(30)), true,
                Clock.systemUTC(), 1, Duration.ofMinutes(5));
        String held = "http://127.0.0.1:" + port + "/held.json";
        Thread first = Thread.ofVirtual().start(() -> assertThrows(ClientIdMetadataDocuments.Rejected.class, () -> docs.resolve(held)));
        // wait (for a condition, not a time) until the first fetch is connected and holding its permit
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (accepted.get() < 1 && System.nanoTime() < until) {
            Thread.sleep(10);
        }
        assertEquals(1, accepted.get());
        ClientIdMetadataDocuments.Rejected busy = assertThrows(ClientIdMetadataDocuments.Rejected.class,
                () -> docs.resolve("http://127.0.0.1:" + port + "/other.json"));
        assertEquals("busy", busy.reason());
        assertEquals(1, accepted.get()); // refused without contacting the host
        release.countDown();
        first.join();
        // the 404 is remembered: asking again does not fetch again
        ClientIdMetadataDocuments.Rejected again = assertThrows(ClientIdMetadataDocuments.Rejected.class, () -> docs.resolve(held));
        assertEquals("http_status", again.reason());
        assertEquals(1, accepted.get());
        // "busy" was not remembered: the other document is fetched now that a permit is free
        assertEquals("http_status", assertThrows(ClientIdMetadataDocuments.Rejected.class,
                () -> docs.resolve("http://127.0.0.1:" + port + "/other.json")).reason());
        assertEquals(2, accepted.get());
        docs.clearCache();
        assertThrows(ClientIdMetadataDocuments.Rejected.class, () -> docs.resolve(held));
        assertTrue(accepted.get() >= 3);
    }
}
