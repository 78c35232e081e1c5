package dev.deputy.broker.admin;

import dev.deputy.broker.testing.ConfigFixture;
import dev.deputy.broker.testing.TestBroker;
import io.micronaut.context.annotation.Requires;
import io.micronaut.http.HttpRequest;
import io.micronaut.security.authentication.Authentication;
import io.micronaut.security.filters.AuthenticationFetcher;
import jakarta.inject.Singleton;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.reactivestreams.Publisher;
import reactor.core.publisher.Mono;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * micronaut-security's filter runs on /admin and /console only ({@link AdminSecurityFilter}): a probe
 * authentication fetcher (which the filter calls on every request it sees) counts the requests it was asked about.
 * The protocol endpoints (token, JWKS, discovery) are never seen; the admin API still refuses an unauthenticated
 * call.
 */
class SecurityFilterScopeTest {
    @TempDir
    Path tmp;

    /** Test-only: counts the requests micronaut-security's filter authenticates. */
    @Singleton
    @Requires(property = "deputy.test.fetcher-probe", value = "true")
    static class Probe implements AuthenticationFetcher<HttpRequest<?>> {
        final AtomicInteger seen = new AtomicInteger();

        @Override
        public Publisher<Authentication> fetchAuthentication(HttpRequest<?> request) {
            seen.incrementAndGet();
            return Mono.empty();
        }
    }

    @Test
    void theProtocolEndpointsNeverMeetTheSecurityFilter() throws Exception {
        Path config = ConfigFixture.copyOfShipped(Files.createDirectories(tmp.resolve("config")));
        try (TestBroker b = TestBroker.builder(tmp.resolve("data"), config).property("deputy.test.fetcher-probe", "true").start()) {
            Probe probe = b.bean(Probe.class);
            assertEquals(401, b.post("/t/demo/token", "application/x-www-form-urlencoded",
                    "grant_type=client_credentials&client_id=nobody&client_secret=x").statusCode());
            assertEquals(200, b.get("/t/demo/jwks.json").statusCode());
            assertEquals(200, b.get("/.well-known/oauth-authorization-server/t/demo").statusCode());
            assertEquals(200, b.get("/health").statusCode());
            assertEquals(0, probe.seen.get(), "no protocol request went through micronaut-security's filter");

            assertEquals(401, b.get("/admin/t/demo/agents").statusCode(), "the admin API still needs a credential");
            assertEquals(401, b.get("/admin/whoami").statusCode());
            assertEquals(2, probe.seen.get(), "each admin request went through it once");
            assertEquals(404, b.get("/console").statusCode(), "console sign-in not configured");
        }
    }
}
