package dev.deputy.broker.governance;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.audit.AuditEntry;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditEvent.Outcome;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.config.ApprovalsFile;
import dev.deputy.broker.ephemeral.EphemeralStore;
import dev.deputy.broker.oauth.Endpoints;
import dev.deputy.broker.policy.Policies;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Pending OpenID CIBA authentication requests (human approvals) and their life: requested → granted | denied |
 * expired, then redeemed once at the token endpoint. Everything lives in the {@link EphemeralStore} (Redis across
 * nodes, in-process on the embedded default) under the SHA-256 of the {@code auth_req_id} (the "approval id" the user's
 * page and the webhook name), with the request's expiry plus a grace period, so that a late poll still learns
 * {@code expired_token}:
 * <ul>
 *   <li>{@code ciba:<t>:<id>}: the request as it was accepted (immutable);</li>
 *   <li>{@code ciba-state:<t>:<id>}: the one decision, set with {@link EphemeralStore#putIfAbsent} — of a user's
 *       approval, a denial and the expiry racing on any number of nodes, exactly one wins and is audited;</li>
 *   <li>{@code ciba-poll:<t>:<id>}: set-if-absent for {@code interval} on each pending poll (CIBA §7.3 / §11
 *       {@code slow_down});</li>
 *   <li>{@code ciba-redeemed:<t>:<id>}: set-if-absent when the token is issued — the auth_req_id is single use;</li>
 *   <li>{@code ciba-user:<t>:<user>:<n>} with the counter {@code ciba-user-n:<t>:<user>}: the user's requests, for
 *       the account page (the store has no scan; an atomic counter hands out the slots).</li>
 * </ul>
 * Every state change writes its audit entry ({@code approval.requested}, {@code approval.granted},
 * {@code approval.denied}, {@code approval.expired}); a ping client (CIBA §10.2) is notified of the decision, and
 * the tenant's approvals webhook of each new request.
 */
@Singleton
public class Approvals {
    private static final Logger LOG = LoggerFactory.getLogger(Approvals.class);
    static final ObjectMapper JSON = new ObjectMapper();
    /** How long a request is remembered after it expired (a late poll gets expired_token, not invalid_grant). */
    static final Duration GRACE = Duration.ofMinutes(10);
    /** The newest requests of a user the account page looks at. */
    static final int USER_WINDOW = 50;
    static final String GRANTED = "granted";
    static final String DENIED = "denied";
    static final String EXPIRED = "expired";

    private final EphemeralStore store;
    private final AuditLog audit;
    private final Endpoints endpoints;
    private final AnomalyWebhook webhook;
    private final ApprovalSettings settings;
    private final Policies policies;
    private final Clock clock;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
            .followRedirects(HttpClient.Redirect.NEVER).build();
    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("deputy-approval-expiry").factory());

    public Approvals(EphemeralStore store, AuditLog audit, Endpoints endpoints, AnomalyWebhook webhook,
                     ApprovalSettings settings, Policies policies) {
        this.store = store;
        this.audit = audit;
        this.endpoints = endpoints;
        this.webhook = webhook;
        this.settings = settings;
        this.policies = policies;
        this.clock = Clock.systemUTC();
    }

    /**
     * One accepted CIBA request.
     *
     * @param id                   the approval id: base64url SHA-256 of the auth_req_id
     * @param authReqId            kept only for ping clients (the notification names it, CIBA §10.2); else null
     * @param agentId              the requesting client's agent (null for a plain client)
     * @param actors               the acting agents for the token's {@code act}, outermost first
     * @param authorizationDetails the RFC 9396 objects, as accepted
     */
    public record Pending(String tenantId, String id, String authReqId, String clientId, String agentId, String userId,
                          String subject, String subjectIssuer, String userLabel, List<String> actors, String resource,
                          List<String> scopes, List<Map<String, Object>> authorizationDetails, String bindingMessage,
                          long createdAt, long expiresAt, int interval, String mode, String notificationEndpoint,
                          String notificationToken) {
        public Pending {
            actors = actors == null ? List.of() : List.copyOf(actors);
            scopes = scopes == null ? List.of() : List.copyOf(scopes);
            authorizationDetails = authorizationDetails == null ? List.of() : List.copyOf(authorizationDetails);
        }

        /** The first {@code deputy_tool_call}'s tool, or null. */
        public String tool() {
            Map<String, Object> d = toolCall();
            return d != null && d.get("tool") instanceof String s ? s : null;
        }

        /** The first {@code deputy_tool_call}'s arguments, or an empty map. */
        @SuppressWarnings("unchecked")
        public Map<String, Object> arguments() {
            Map<String, Object> d = toolCall();
            return d != null && d.get("arguments") instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of();
        }

        private Map<String, Object> toolCall() {
            return authorizationDetails.stream().filter(d -> ApprovalsFile.TOOL_CALL.equals(d.get("type")))
                    .findFirst().orElse(null);
        }
    }

    /** The approval id of an auth_req_id: base64url(SHA-256). */
    public static String idOf(String authReqId) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest(authReqId.getBytes(StandardCharsets.UTF_8));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(h);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Stores a new request, indexes it under its user, audits it, schedules its expiry and calls the webhook. */
    public AuditEntry create(Pending p, RequestMeta meta) {
        long now = clock.millis();
        Duration ttl = Duration.ofMillis(Math.max(1000, p.expiresAt() - now)).plus(GRACE);
        store.put(key(p.tenantId(), p.id()), write(p), ttl);
        long slot = store.increment(userCounter(p.tenantId(), p.userId()), Duration.ofDays(400));
        store.put(userSlot(p.tenantId(), p.userId(), slot), p.id(), ttl);
        AuditEntry entry = audit.append(event(p, EventTypes.APPROVAL_REQUESTED, Outcome.SUCCESS, meta)
                .detail("expires_at", Instant.ofEpochMilli(p.expiresAt()).toString()).build());
        timers.schedule(() -> {
            try {
                expireIfUndecided(p.tenantId(), p.id());
            } catch (RuntimeException e) {
                LOG.debug("approval expiry check failed: {}", e.toString());
            }
        }, Math.max(0, p.expiresAt() - now) + 50, TimeUnit.MILLISECONDS);
        ApprovalsFile.Webhook hook = settings.of(p.tenantId()).webhook();
        if (hook != null) {
            webhook.send(hook.delivery(), webhookBody(p, entry), "approvals");
        }
        return entry;
    }

    public Optional<Pending> find(String tenantId, String id) {
        if (id == null || id.length() > 64) {
            return Optional.empty();
        }
        return store.get(key(tenantId, id)).map(Approvals::read);
    }

    /** The decision taken, or null while pending (an expiry that nobody recorded yet is recorded now). */
    public String state(Pending p) {
        String s = store.get(stateKey(p.tenantId(), p.id())).orElse(null);
        if (s == null && clock.millis() >= p.expiresAt()) {
            expireIfUndecided(p.tenantId(), p.id());
            s = store.get(stateKey(p.tenantId(), p.id())).orElse(EXPIRED);
        }
        return s;
    }

    /** What a user's approve or deny did. */
    public enum Decided { DONE, NOT_FOUND, EXPIRED, ALREADY_DECIDED }

    /**
     * The user's decision on the account page: only the request's own user, only while pending; the first decision
     * wins on every node ({@link EphemeralStore#putIfAbsent}).
     */
    public Decided decide(String tenantId, String id, String userId, boolean approve, RequestMeta meta) {
        Optional<Pending> found = find(tenantId, id);
        if (found.isEmpty() || !found.get().userId().equals(userId)) {
            return Decided.NOT_FOUND;
        }
        Pending p = found.get();
        String before = state(p);
        if (EXPIRED.equals(before)) {
            return Decided.EXPIRED;
        }
        if (before != null || !store.putIfAbsent(stateKey(tenantId, id), approve ? GRANTED : DENIED, ttl(p))) {
            return EXPIRED.equals(store.get(stateKey(tenantId, id)).orElse(null)) ? Decided.EXPIRED : Decided.ALREADY_DECIDED;
        }
        audit.append(event(p, approve ? EventTypes.APPROVAL_GRANTED : EventTypes.APPROVAL_DENIED,
                approve ? Outcome.ALLOW : Outcome.DENY, meta).detail("actor", "user:" + userId).build());
        if ("ping".equals(p.mode())) {
            ping(p);
        }
        return Decided.DONE;
    }

    /** Records the expiry of an undecided request once (whichever node or timer gets there first) and audits it. */
    void expireIfUndecided(String tenantId, String id) {
        Optional<Pending> found = find(tenantId, id);
        if (found.isEmpty() || clock.millis() < found.get().expiresAt()) {
            return;
        }
        Pending p = found.get();
        if (store.putIfAbsent(stateKey(tenantId, id), EXPIRED, ttl(p))) {
            audit.append(event(p, EventTypes.APPROVAL_EXPIRED, Outcome.INFO, RequestMeta.INTERNAL).build());
        }
    }

    /** The result of one poll at the token endpoint (CIBA §10.1, §11). */
    public sealed interface Poll {
        record Unknown() implements Poll {
        }

        record OtherClient(Pending pending) implements Poll {
        }

        record Waiting(boolean tooFast) implements Poll {
        }

        record Denied() implements Poll {
        }

        record Expired() implements Poll {
        }

        record Used() implements Poll {
        }

        record Granted(Pending pending) implements Poll {
        }
    }

    /** One poll by {@code clientId}: the request must be its own; a granted one is handed out once. */
    public Poll poll(String tenantId, String clientId, String authReqId) {
        if (authReqId == null || authReqId.length() > 512) {
            return new Poll.Unknown();
        }
        String id = idOf(authReqId);
        Optional<Pending> found = find(tenantId, id);
        if (found.isEmpty()) {
            return new Poll.Unknown();
        }
        Pending p = found.get();
        // CIBA §11: an auth_req_id issued to another client is invalid_grant
        if (!p.clientId().equals(clientId)) {
            return new Poll.OtherClient(p);
        }
        String s = state(p);
        if (s == null) {
            // CIBA §7.3: the client waits at least interval seconds between polls; sooner is slow_down
            boolean tooFast = !store.putIfAbsent(pollKey(tenantId, id), "1", Duration.ofSeconds(p.interval()));
            return new Poll.Waiting(tooFast);
        }
        // CIBA §11 expired_token: past its expiry the auth_req_id is spent, even when it was approved in time
        boolean lapsed = clock.millis() >= p.expiresAt();
        return switch (s) {
            case DENIED -> new Poll.Denied();
            case EXPIRED -> new Poll.Expired();
            case GRANTED -> lapsed ? new Poll.Expired()
                    : store.putIfAbsent(redeemedKey(tenantId, id), "1", ttl(p)) ? new Poll.Granted(p) : new Poll.Used();
            default -> new Poll.Unknown();
        };
    }

    /** The user's requests still waiting for a decision, newest first. */
    public List<Pending> pendingFor(String tenantId, String userId) {
        long n = store.get(userCounter(tenantId, userId)).map(Long::parseLong).orElse(0L);
        List<Pending> out = new ArrayList<>();
        for (long i = n; i > Math.max(0, n - USER_WINDOW); i--) {
            store.get(userSlot(tenantId, userId, i)).flatMap(id -> find(tenantId, id)).ifPresent(p -> {
                if (p.userId().equals(userId) && state(p) == null) {
                    out.add(p);
                }
            });
        }
        return out;
    }

    /**
     * Marks a transaction-bound token as used (the AuthZEN decision consumes it): true for the one caller that used
     * it first, on any node.
     */
    public boolean consume(String tenantId, String jti, Instant tokenExpiry) {
        Duration ttl = Duration.ofMillis(Math.max(1000, tokenExpiry.toEpochMilli() - clock.millis())).plusSeconds(60);
        return store.putIfAbsent("approval-used:" + tenantId + ":" + jti, "1", ttl);
    }

    /** The tenant's account page link to this approval (the webhook's {@code approval_url}). */
    public String pageUrl(Pending p) {
        return endpoints.issuer(p.tenantId()) + "/account#approval-" + p.id();
    }

    /** CIBA §10.2: {@code POST <endpoint>} with {@code Authorization: Bearer <client_notification_token>}. */
    private void ping(Pending p) {
        if (p.notificationEndpoint() == null || p.notificationToken() == null || p.authReqId() == null) {
            return;
        }
        String body;
        try {
            body = JSON.writeValueAsString(Map.of("auth_req_id", p.authReqId()));
        } catch (Exception e) {
            return;
        }
        HttpRequest req = HttpRequest.newBuilder(URI.create(p.notificationEndpoint())).timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json").header("Authorization", "Bearer " + p.notificationToken())
                .POST(HttpRequest.BodyPublishers.ofString(body)).build();
        http.sendAsync(req, HttpResponse.BodyHandlers.discarding()).whenComplete((r, err) -> {
            if (err != null || r.statusCode() / 100 != 2) {
                // the client still learns the outcome by polling the token endpoint
                LOG.info("CIBA ping to {} failed ({}); the client can still poll", p.notificationEndpoint(),
                        err != null ? err.getClass().getSimpleName() : "HTTP " + r.statusCode());
            }
        });
    }

    String webhookBody(Pending p, AuditEntry entry) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", EventTypes.APPROVAL_REQUESTED);
        m.put("tenant", p.tenantId());
        m.put("seq", entry.seq());
        m.put("at", Instant.ofEpochMilli(entry.atMs()).toString());
        m.put("approval_id", p.id());
        m.put("user", p.subject());
        m.put("user_email", p.userLabel());
        m.put("client", p.clientId());
        m.put("actors", p.actors());
        m.put("resource", p.resource());
        m.put("binding_message", p.bindingMessage());
        m.put("authorization_details", auditDetails(p));
        m.put("expires_at", Instant.ofEpochMilli(p.expiresAt()).toString());
        m.put("approval_url", pageUrl(p));
        m.put("entry_hash", entry.hash());
        return write(m);
    }

    /** The authorization_details minus the policy's sensitive arguments (never written to logs or webhooks). */
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> auditDetails(Pending p) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Map<String, Object> d : p.authorizationDetails()) {
            Map<String, Object> copy = new LinkedHashMap<>(d);
            if (copy.get("arguments") instanceof Map<?, ?> args) {
                copy.put("arguments", policies.tools(p.tenantId()).auditArguments((Map<String, Object>) args));
            }
            out.add(copy);
        }
        return out;
    }

    private AuditEvent.Builder event(Pending p, String type, Outcome outcome, RequestMeta meta) {
        return AuditEvent.of(p.tenantId(), type, outcome).subject(p.subject(), p.subjectIssuer()).actors(p.actors())
                .agent(p.actors().isEmpty() ? p.agentId() : p.actors().get(0)).client(p.clientId()).resource(p.resource())
                .scopes(p.scopes().isEmpty() ? null : String.join(" ", p.scopes())).request(meta)
                .detail("approval", p.id()).detail("user_id", p.userId()).detail("mode", p.mode())
                .detail("tool", p.tool())
                .detail("arguments", p.tool() == null ? null : policies.tools(p.tenantId()).auditArguments(p.arguments()))
                .detail("types", p.authorizationDetails().stream().map(d -> String.valueOf(d.get("type"))).distinct().toList())
                .detail("binding_message", p.bindingMessage());
    }

    private Duration ttl(Pending p) {
        return Duration.ofMillis(Math.max(1000, p.expiresAt() - clock.millis())).plus(GRACE);
    }

    private static String key(String t, String id) {
        return "ciba:" + t + ":" + id;
    }

    private static String stateKey(String t, String id) {
        return "ciba-state:" + t + ":" + id;
    }

    private static String pollKey(String t, String id) {
        return "ciba-poll:" + t + ":" + id;
    }

    private static String redeemedKey(String t, String id) {
        return "ciba-redeemed:" + t + ":" + id;
    }

    private static String userCounter(String t, String user) {
        return "ciba-user-n:" + t + ":" + user;
    }

    private static String userSlot(String t, String user, long n) {
        return "ciba-user:" + t + ":" + user + ":" + n;
    }

    static String write(Object o) {
        try {
            return JSON.writeValueAsString(o);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static Pending read(String s) {
        try {
            return JSON.readValue(s, new TypeReference<Pending>() {
            });
        } catch (Exception e) {
            throw new IllegalStateException("unreadable approval request", e);
        }
    }

    @PreDestroy
    void close() {
        timers.shutdownNow();
    }
}
