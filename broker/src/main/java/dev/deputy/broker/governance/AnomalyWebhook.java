package dev.deputy.broker.governance;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.config.AnomalyFile;
import dev.deputy.broker.federation.SecretEnv;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Posts anomaly alerts to a tenant's webhook. The body is JSON; the header
 * {@code Deputy-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>} lets the receiver check that
 * Deputy sent it and when (docs/governance.md, Verifying the webhook signature). A delivery that fails (no answer,
 * or not 2xx) is retried with exponential backoff (1s, 2s, 4s, … at most 5 min apart) up to the configured attempts;
 * the secret comes from the environment variable the tenant names and never appears in a log line.
 */
@Singleton
public class AnomalyWebhook {
    private static final Logger LOG = LoggerFactory.getLogger(AnomalyWebhook.class);
    static final String HEADER = "Deputy-Signature";
    private static final ObjectMapper JSON = new ObjectMapper();
    // made on the first alert: an HTTP client loads the JVM's TLS trust and starts a selector thread (start-up cost,
    // and most brokers never send one)
    private HttpClient http;
    private ScheduledExecutorService retries;
    private boolean closed;

    private synchronized HttpClient http() {
        if (http == null) {
            http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
                    .followRedirects(HttpClient.Redirect.NEVER).build();
        }
        return http;
    }

    private synchronized ScheduledExecutorService retries() {
        if (closed) {
            throw new java.util.concurrent.RejectedExecutionException("the broker is stopping");
        }
        if (retries == null) {
            retries = Executors.newSingleThreadScheduledExecutor(
                    Thread.ofPlatform().daemon().name("deputy-anomaly-webhook").factory());
        }
        return retries;
    }

    /** The alert body: the anomaly.detected entry's facts. */
    static String body(AuditEntry detected, String agentId, AnomalyFile.RuleFile rule, String reason, boolean suspended) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", detected.type());
        m.put("tenant", detected.tenantId());
        m.put("seq", detected.seq());
        m.put("at", Instant.ofEpochMilli(detected.atMs()).toString());
        m.put("agent", agentId);
        m.put("rule", rule.id());
        m.put("kind", rule.kind());
        m.put("reason", reason);
        m.put("actions", rule.actions());
        m.put("suspended", suspended);
        m.put("correlation_id", detected.correlationId());
        m.put("entry_hash", detected.hash());
        try {
            return JSON.writeValueAsString(m);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code t=<seconds>,v1=<hex>}. */
    public static String signature(byte[] secret, long epochSeconds, String body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            byte[] sig = mac.doFinal((epochSeconds + "." + body).getBytes(StandardCharsets.UTF_8));
            return "t=" + epochSeconds + ",v1=" + HexFormat.of().formatHex(sig);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public void send(AnomalyFile.WebhookFile hook, String body) {
        send(hook, body, "anomaly");
    }

    /** The same signed delivery for another kind of notification ({@code approvals}: CIBA approval requests). */
    public void send(AnomalyFile.WebhookFile hook, String body, String kind) {
        String secret = SecretEnv.get(hook.secretEnv());
        if (secret == null || secret.isEmpty()) {
            LOG.warn("{} webhook: environment variable {} is not set; notification not sent (it is in the audit trail)",
                    kind, hook.secretEnv());
            return;
        }
        attempt(hook, secret.getBytes(StandardCharsets.UTF_8), body, 1, kind);
    }

    private void attempt(AnomalyFile.WebhookFile hook, byte[] secret, String body, int n, String kind) {
        HttpRequest req = HttpRequest.newBuilder(URI.create(hook.url())).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .header(HEADER, signature(secret, Instant.now().getEpochSecond(), body))
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        http().sendAsync(req, HttpResponse.BodyHandlers.discarding()).whenComplete((r, err) -> {
            if (err == null && r.statusCode() / 100 == 2) {
                return;
            }
            String why = err != null ? err.getClass().getSimpleName() : "HTTP " + r.statusCode();
            if (n >= hook.maxAttempts()) {
                LOG.warn("{} webhook {}: giving up after {} attempts ({})", kind, hook.url(), n, why);
                return;
            }
            long delay = Math.min(300_000L, 1000L << Math.min(n - 1, 20));
            LOG.info("{} webhook {}: attempt {} failed ({}), retrying in {} ms", kind, hook.url(), n, why, delay);
            retries().schedule(() -> attempt(hook, secret, body, n + 1, kind), delay, TimeUnit.MILLISECONDS);
        });
    }

    @PreDestroy
    synchronized void close() {
        closed = true;
        if (retries != null) {
            retries.shutdownNow();
        }
    }
}
