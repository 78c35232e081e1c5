package dev.deputy.broker.http;

import dev.deputy.broker.admin.AdminAuth;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditStore;
import dev.deputy.broker.testing.TestBroker;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 16: {@code DEPUTY_TRUSTED_PROXIES}. Behind a trusted load balancer the audit {@code source_ip} and the
 * per-source rate limits use the client named by {@code Forwarded} / {@code X-Forwarded-For}; from anyone else the
 * headers are ignored; spoofed entries on the left of a chain are never believed. The test client connects from
 * 127.0.0.1, which one broker trusts as a proxy and the other (the default) does not.
 */
class TrustedProxiesHttpTest {
    static final String WRONG = "grant_type=client_credentials&client_id=admin&client_secret=wrong%20secret%20%C3%BC";

    @TempDir
    static Path dir;
    static TestBroker behindProxy;
    static TestBroker direct;

    @BeforeAll
    static void start() throws Exception {
        Path config = Files.createDirectories(dir.resolve("config"));
        Files.writeString(config.resolve("broker.yml"), "rate_limits:\n  admin_token_per_source: 2/1h\n");
        Files.createDirectories(config.resolve("tenants/demo"));
        Files.writeString(config.resolve("tenants/demo/tenant.yml"), "display_name: Proxies\n");
        behindProxy = TestBroker.builder(dir.resolve("data-a"), config)
                .property("deputy.http.trusted-proxies", "127.0.0.0/8, ::1").start();
        direct = TestBroker.builder(dir.resolve("data-b"), config).start();
    }

    @AfterAll
    static void stop() {
        for (TestBroker b : new TestBroker[]{behindProxy, direct}) {
            if (b != null) {
                b.close();
            }
        }
    }

    static HttpResponse<String> adminToken(TestBroker b, String header, String value) {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(b.url() + "/admin/token"))
                .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(WRONG));
        if (header != null) {
            r.header(header, value);
        }
        return b.send(r);
    }

    /** The source address the one audit entry of a refused token request (unknown client) recorded. */
    static String sourceOf(TestBroker b, String header, String value) {
        HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(b.url() + "/t/demo/token"))
                .header("Content-Type", "application/x-www-form-urlencoded").POST(HttpRequest.BodyPublishers.ofString(
                        "grant_type=client_credentials&client_id=nobody.zo%C3%AB&client_secret=guess"));
        if (header != null) {
            req.header(header, value);
        }
        HttpResponse<String> r = b.send(req);
        assertEquals(401, r.statusCode(), r.body());
        String requestId = r.headers().firstValue("X-Request-Id").orElseThrow();
        List<AuditEntry> mine = b.bean(AuditStore.class).range("demo", 0, 100_000).stream()
                .filter(e -> requestId.equals(e.requestId())).toList();
        assertEquals(1, mine.size(), "one entry per refused request");
        return mine.get(0).sourceIp();
    }

    @Test
    void behindATrustedProxyTheForwardedClientIsTheSource() {
        assertEquals("203.0.113.7", sourceOf(behindProxy, "X-Forwarded-For", "203.0.113.7"));
        // read right to left: the rightmost address that is not a trusted proxy is the client
        assertEquals("203.0.113.8", sourceOf(behindProxy, "X-Forwarded-For", "198.51.100.9, 203.0.113.8"));
        assertEquals("203.0.113.10", sourceOf(behindProxy, "X-Forwarded-For", "203.0.113.10, 127.0.0.9,127.0.0.1"));
        // RFC 7239, IPv6 with a port, quoted, with other parameters
        assertEquals("2001:db8:cafe:0:0:0:0:17", sourceOf(behindProxy, "Forwarded",
                "for=\"[2001:db8:cafe::17]:4711\";proto=https;by=10.0.0.1"));
        assertEquals("192.0.2.60", sourceOf(behindProxy, "Forwarded", "for=192.0.2.43, for=192.0.2.60;proto=http"));
        // nothing forwarded, or nothing usable: the proxy's own address (never a name lookup, never garbage)
        assertEquals("127.0.0.1", sourceOf(behindProxy, null, null));
        assertEquals("127.0.0.1", sourceOf(behindProxy, "X-Forwarded-For", "evil.example.com"));
        assertEquals("127.0.0.1", sourceOf(behindProxy, "X-Forwarded-For", "' OR 1=1 --"));
        assertEquals("127.0.0.1", sourceOf(behindProxy, "Forwarded", "for=unknown"));
        assertEquals("127.0.0.1", sourceOf(behindProxy, "Forwarded", "for=_hidden, for=\"[::1\""));
    }

    @Test
    void spoofedEntriesLeftOfAnUntrustedAddressAreNeverBelieved() {
        // the client put 10.0.0.1 (or a trusted-looking 127.0.0.1) in front; the proxy appended the real peer
        assertEquals("203.0.113.11", sourceOf(behindProxy, "X-Forwarded-For", "10.0.0.1, 203.0.113.11"));
        assertEquals("203.0.113.12", sourceOf(behindProxy, "X-Forwarded-For", "127.0.0.1, 203.0.113.12"));
    }

    @Test
    void withoutTrustedProxiesTheHeadersAreIgnored() {
        assertEquals("127.0.0.1", sourceOf(direct, "X-Forwarded-For", "203.0.113.7"));
        assertEquals("127.0.0.1", sourceOf(direct, "Forwarded", "for=203.0.113.7"));
    }

    @Test
    void perSourceRateLimitsCountTheForwardedClient() {
        // broker.yml admin_token_per_source: 2/1h, per client behind the proxy
        for (int i = 0; i < 2; i++) {
            assertEquals(401, adminToken(behindProxy, "X-Forwarded-For", "203.0.113.50").statusCode());
        }
        HttpResponse<String> limited = adminToken(behindProxy, "X-Forwarded-For", "203.0.113.50");
        assertEquals(429, limited.statusCode(), limited.body());
        assertTrue(limited.headers().firstValue("Retry-After").isPresent());
        // the same client cannot escape by prefixing addresses of its own
        assertEquals(429, adminToken(behindProxy, "X-Forwarded-For", "198.51.100.77, 203.0.113.50").statusCode());
        // another client behind the same proxy has its own bucket
        assertEquals(401, adminToken(behindProxy, "X-Forwarded-For", "203.0.113.51").statusCode());
    }

    @Test
    void aDirectClientCannotRotateForwardedHeadersPastItsLimit() {
        for (int i = 0; i < 2; i++) {
            assertEquals(401, adminToken(direct, "X-Forwarded-For", "198.51.100." + i).statusCode());
        }
        assertEquals(429, adminToken(direct, "X-Forwarded-For", "198.51.100.99").statusCode());
        assertEquals(429, adminToken(direct, "Forwarded", "for=198.51.100.98").statusCode());
    }

    @Test
    void aMalformedListIsRefusedAtStart() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new TrustedProxies("10.0.0.0/8, lb.internal"));
        assertEquals("DEPUTY_TRUSTED_PROXIES: 'lb.internal' is not an IP address or CIDR (e.g. 10.0.0.0/8, 192.168.1.10,"
                + " fd00::/8)", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new TrustedProxies("10.0.0.0/33"));
        assertTrue(new TrustedProxies("").cidrs().isEmpty());
    }
}
