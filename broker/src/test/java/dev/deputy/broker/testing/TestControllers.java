package dev.deputy.broker.testing;

import com.nimbusds.oauth2.sdk.OAuth2Error;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.ephemeral.EphemeralStore;
import dev.deputy.broker.oauth.OAuthException;
import io.micronaut.context.annotation.Requires;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.MediaType;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;

import java.time.Duration;
import java.util.Map;

/**
 * Test-only endpoints (enabled by {@code deputy.test.controllers=true}) that exercise the shared stores
 * and the error renderer through real HTTP, the way later features will.
 */
@Controller("/test")
@Requires(property = "deputy.test.controllers", value = "true")
@ExecuteOn(TaskExecutors.BLOCKING)
public class TestControllers {
    private final EphemeralStore ephemeral;
    private final AuditLog audit;

    public TestControllers(EphemeralStore ephemeral, AuditLog audit) {
        this.ephemeral = ephemeral;
        this.audit = audit;
    }

    @Post(uri = "/ephemeral/{key}", consumes = MediaType.TEXT_PLAIN)
    public HttpResponse<?> put(@PathVariable String key, @Body String value) {
        ephemeral.put("test:" + key, value, Duration.ofMinutes(1));
        return HttpResponse.noContent();
    }

    @Get(uri = "/ephemeral/{key}", produces = MediaType.TEXT_PLAIN)
    public HttpResponse<String> get(@PathVariable String key) {
        return ephemeral.get("test:" + key).map(HttpResponse::ok).orElseGet(HttpResponse::notFound);
    }

    @Post(uri = "/audit/{tenant}", consumes = MediaType.TEXT_PLAIN, produces = MediaType.APPLICATION_JSON)
    public Map<String, Object> append(@PathVariable String tenant, @Body String subject) {
        var e = audit.append(AuditEvent.of(tenant, "test.event", AuditEvent.Outcome.INFO).subject(subject, null).build());
        return Map.of("seq", e.seq(), "hash", e.hash());
    }

    private final java.util.concurrent.atomic.AtomicInteger held = new java.util.concurrent.atomic.AtomicInteger();

    /** Holds the request until {@code file} exists (a request in flight for as long as a test wants), then audits. */
    @Get(uri = "/hold/{tenant}", produces = MediaType.APPLICATION_JSON)
    public Map<String, Object> hold(@PathVariable String tenant, @QueryValue String file) throws InterruptedException {
        held.incrementAndGet();
        try {
            while (!java.nio.file.Files.exists(java.nio.file.Path.of(file))) {
                Thread.sleep(10);
            }
            var e = audit.append(AuditEvent.of(tenant, "test.held", AuditEvent.Outcome.INFO).subject("held", null).build());
            return Map.of("seq", e.seq());
        } finally {
            held.decrementAndGet();
        }
    }

    @Get(uri = "/held", produces = MediaType.TEXT_PLAIN)
    public String held() {
        return Integer.toString(held.get());
    }

    @Get("/boom")
    public String boom() {
        throw new IllegalStateException("internal detail that must not leak: password=hunter2");
    }

    @Get("/invalid-client")
    public String invalidClient() {
        throw new OAuthException(OAuth2Error.INVALID_CLIENT, "client authentication failed");
    }

    @Get("/number")
    public String number(@QueryValue int n) {
        return Integer.toString(n);
    }

    @Post(uri = "/json", consumes = MediaType.APPLICATION_JSON)
    public Map<String, Object> json(@Body Map<String, Object> body) {
        return body;
    }
}
