package dev.deputy.broker.ratelimit;

import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.config.Limit;
import dev.deputy.broker.config.RateLimitsFile;
import dev.deputy.broker.config.TenantFile;
import dev.deputy.broker.config.YamlFiles;
import dev.deputy.broker.ephemeral.EphemeralStore;
import dev.deputy.broker.tenant.Tenant;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The one rate-limit mechanism of the broker (docs/security.md, Rate limits): token buckets in a
 * {@link RateLimitStore} shared by every node, one bucket per (limit, tenant, subject). A refusal throws
 * {@link RateLimitedException} (429, {@code Retry-After}) after writing a <em>sampled</em> audit entry: the first
 * refusal of a bucket in each period of its limit, then the 10th, 100th, 1000th ... with the running count, so an
 * attacker cannot flood the trail.
 */
@Singleton
public class RateLimiter {
    private static final Logger LOG = LoggerFactory.getLogger(RateLimiter.class);
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9._:@-]{1,80}");
    private static final int MAX_BLOCKED = 100_000;

    /** The limits, named by their config key (the audit entry's {@code reason}). */
    public enum Kind {
        TOKEN_PER_CLIENT("token_per_client"),
        TENANT("tenant"),
        AUTHORIZE_PER_SOURCE("authorize_per_source"),
        FAILED_CLIENT_AUTH_PER_SOURCE("failed_client_auth_per_source"),
        /** registration.yml {@code rate_per_source} / {@code rate_window} (RFC 7591 registration endpoint). */
        REGISTER_PER_SOURCE("rate_per_source"),
        /** broker.yml {@code rate_limits.admin_token_per_source}. */
        ADMIN_TOKEN_PER_SOURCE("admin_token_per_source");

        private final String key;

        Kind(String key) {
            this.key = key;
        }

        public String key() {
            return key;
        }
    }

    private final RateLimitStore store;
    private final EphemeralStore ephemeral;
    private final AuditLog audit;
    private final Map<String, RateLimitsFile> byTenant = new ConcurrentHashMap<>();
    /** Sources over their failed-client-authentication limit, with the nanoTime they may come back (per node). */
    private final Map<String, Long> blocked = new ConcurrentHashMap<>();

    public RateLimiter(RateLimitStore store, EphemeralStore ephemeral, AuditLog audit,
                       dev.deputy.broker.config.LiveConfig live) {
        live.listen(byTenant::remove); // an apply of tenant.yml's rate_limits: read again on the next request
        this.store = store;
        this.ephemeral = ephemeral;
        this.audit = audit;
        LOG.info("rate limits: {}", store.backend());
    }

    /** The tenant's {@code rate_limits:} from its tenant.yml (read once), or the defaults. */
    public RateLimitsFile limits(Tenant tenant) {
        return byTenant.computeIfAbsent(tenant.id(), id -> read(tenant));
    }

    private static RateLimitsFile read(Tenant tenant) {
        Path file = tenant.configDir() == null ? null : tenant.configDir().resolve("tenant.yml");
        if (file == null || !Files.isRegularFile(file)) {
            return RateLimitsFile.DEFAULT;
        }
        return YamlFiles.read(file, TenantFile.class).rateLimits();
    }

    /**
     * Takes one request from the bucket of {@code kind} for {@code subject} (a client id, a source address, or empty
     * for the tenant); refuses with {@link RateLimitedException} when it is empty. A limit that is off costs nothing.
     *
     * @param auditType the type of the endpoint's refusal entries ({@code token.rejected}, ...)
     */
    public void check(String tenantId, Kind kind, String subject, Limit limit, String auditType, RequestMeta meta) {
        if (!limit.on()) {
            return;
        }
        String key = key(kind, tenantId, subject, limit);
        RateLimitStore.Probe p = store.take(key, limit);
        if (!p.allowed()) {
            refuse(tenantId, kind, subject, limit, auditType, meta, key, p.retryAfterSeconds());
        }
    }

    /**
     * The token endpoint's one-time marks for one request: with {@code token_per_client} on, a fresh {@code jti}
     * also takes the request from its client's bucket in the same store round trip ({@link RateLimitStore#markAndTake};
     * over the limit: {@link RateLimitedException}, audited like {@link #check}); off, plainly the store's mark. A
     * client that never marks anything (mTLS) is checked by {@link ClientMarks#checkUnlessTaken} instead.
     */
    public ClientMarks tokenMarks(Tenant tenant, String auditType, RequestMeta meta) {
        return new ClientMarks(tenant.id(), limits(tenant).tokenPerClient(), auditType, meta);
    }

    /** One request's marks (not shared between requests): remembers which client's bucket it took from. */
    public final class ClientMarks implements dev.deputy.broker.ephemeral.OneTimeMarks {
        private final String tenantId;
        private final Limit limit;
        private final String auditType;
        private final RequestMeta meta;
        private String taken;

        private ClientMarks(String tenantId, Limit limit, String auditType, RequestMeta meta) {
            this.tenantId = tenantId;
            this.limit = limit;
            this.auditType = auditType;
            this.meta = meta;
        }

        @Override
        public boolean markUsed(String clientId, String key, Duration ttl) {
            if (!limit.on()) {
                return ephemeral.markUsed(key, ttl);
            }
            String bucket = key(Kind.TOKEN_PER_CLIENT, tenantId, clientId, limit);
            RateLimitStore.MarkProbe p = store.markAndTake(ephemeral, key, ttl, bucket, limit);
            if (!p.fresh()) {
                return false;
            }
            taken = clientId;
            if (!p.probe().allowed()) {
                refuse(tenantId, Kind.TOKEN_PER_CLIENT, clientId, limit, auditType, meta, bucket,
                        p.probe().retryAfterSeconds());
            }
            return true;
        }

        /** The {@code token_per_client} check of {@code clientId}, unless its mark already took the request. */
        public void checkUnlessTaken(String clientId) {
            if (!clientId.equals(taken)) {
                check(tenantId, Kind.TOKEN_PER_CLIENT, clientId, limit, auditType, meta);
            }
        }
    }

    /** The per-tenant overall limit, in front of the tenant's rate-limited endpoints. */
    public void checkTenant(Tenant tenant, String auditType, RequestMeta meta) {
        check(tenant.id(), Kind.TENANT, "", limits(tenant).tenant(), auditType, meta);
    }

    /**
     * In front of client authentication: a source that went over {@code failed_client_auth_per_source} is refused
     * until its bucket has a token again. A lookup in this node's memory (no store round trip on the hot path); the
     * other nodes learn it from the shared bucket at the source's next failure there.
     */
    public void refuseBlockedSource(Tenant tenant, String auditType, RequestMeta meta) {
        if (blocked.isEmpty()) {
            return;
        }
        String source = source(meta);
        String b = tenant.id() + "\n" + source;
        Long until = blocked.get(b);
        if (until == null) {
            return;
        }
        long left = until - System.nanoTime();
        if (left <= 0) {
            blocked.remove(b, until);
            return;
        }
        Limit limit = limits(tenant).failedClientAuthPerSource();
        refuse(tenant.id(), Kind.FAILED_CLIENT_AUTH_PER_SOURCE, source, limit, auditType, meta,
                key(Kind.FAILED_CLIENT_AUTH_PER_SOURCE, tenant.id(), source, limit),
                new RateLimitStore.Probe(false, left).retryAfterSeconds());
    }

    /** Counts a failed client authentication of the request's source; past the limit, refuses (and blocks it). */
    public void failedClientAuth(Tenant tenant, String auditType, RequestMeta meta) {
        Limit limit = limits(tenant).failedClientAuthPerSource();
        if (!limit.on()) {
            return;
        }
        String source = source(meta);
        String key = key(Kind.FAILED_CLIENT_AUTH_PER_SOURCE, tenant.id(), source, limit);
        RateLimitStore.Probe p = store.take(key, limit);
        if (!p.allowed()) {
            if (blocked.size() >= MAX_BLOCKED) {
                long now = System.nanoTime();
                blocked.values().removeIf(until -> until - now <= 0);
            }
            if (blocked.size() < MAX_BLOCKED) {
                blocked.put(tenant.id() + "\n" + source, System.nanoTime() + p.nanosToWait());
            }
            refuse(tenant.id(), Kind.FAILED_CLIENT_AUTH_PER_SOURCE, source, limit, auditType, meta, key,
                    p.retryAfterSeconds());
        }
    }

    /** The source address the per-source limits count (the peer address of the connection). */
    public static String source(RequestMeta meta) {
        return meta == null || meta.sourceIp() == null ? "unknown" : meta.sourceIp();
    }

    private void refuse(String tenantId, Kind kind, String subject, Limit limit, String auditType, RequestMeta meta,
                        String key, long retryAfter) {
        try {
            long n = ephemeral.increment("rl-refused:" + key, limit.period().compareTo(Duration.ofHours(1)) > 0
                    ? Duration.ofHours(1) : limit.period());
            if (sampled(n)) {
                AuditEvent.Builder b = AuditEvent.of(tenantId, auditType, AuditEvent.Outcome.FAILURE).request(meta)
                        .detail("error", "temporarily_unavailable")
                        .detail("reason", kind.key())
                        .detail("limit", limit.toString())
                        .detail("refusals_in_period", n)
                        .detail("retry_after", retryAfter);
                if (kind == Kind.TOKEN_PER_CLIENT) {
                    b.client(subject);
                }
                audit.append(b.build());
            }
        } catch (RuntimeException e) {
            // the refusal stands; a lost sample must not turn a 429 into a 5xx
            LOG.warn("could not audit a rate-limit refusal (tenant {}, {}): {}", tenantId, kind.key(), e.toString());
        }
        throw new RateLimitedException(kind.key(), retryAfter);
    }

    /** The 1st, 10th, 100th, ... refusal of a bucket in a period. */
    static boolean sampled(long n) {
        if (n < 1) {
            return false;
        }
        while (n % 10 == 0) {
            n /= 10;
        }
        return n == 1;
    }

    /** {@code rl:<limit>:<tenant>:<subject>:<rate>}; a subject that is long or not plain ASCII is hashed. */
    static String key(Kind kind, String tenantId, String subject, Limit limit) {
        return "rl:" + kind.key() + ":" + tenantId + ":" + (PLAIN.matcher(subject).matches() || subject.isEmpty()
                ? subject : "#" + digest(subject)) + ":" + limit;
    }

    private static String digest(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return Base64.getUrlEncoder().withoutPadding().encodeToString(d);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
