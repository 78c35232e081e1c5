package dev.deputy.broker.metrics;

import com.nimbusds.oauth2.sdk.GrantType;
import dev.deputy.broker.oauth.ClientFrontDoor;
import dev.deputy.broker.oauth.TokenMetrics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.context.annotation.Requires;
import jakarta.inject.Singleton;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The token pipeline's counters:
 * <ul>
 *   <li>{@code deputy_tokens_issued_total{tenant,grant,method}}</li>
 *   <li>{@code deputy_tokens_refused_total{tenant,grant,method,error}}</li>
 *   <li>{@code deputy_client_requests_refused_total{tenant,endpoint,method,error}} (introspection, revocation,
 *       tool-call reports)</li>
 *   <li>{@code deputy_token_exchange_decisions_total{tenant,rule,decision}}</li>
 *   <li>{@code deputy_requests_unavailable_total{reason}} (every 503 {@code temporarily_unavailable}, any endpoint)</li>
 * </ul>
 * Every label value is mapped onto a closed set before it is used (anything else is {@code other}); the counters
 * are cached by their label values.
 */
@Requires(bean = MeterRegistry.class)
@Singleton
public class TokenMeters implements TokenMetrics {
    static final String ISSUED = "deputy.tokens.issued";
    static final String REFUSED = "deputy.tokens.refused";
    static final String ENDPOINT_REFUSED = "deputy.client.requests.refused";
    static final String EXCHANGE = "deputy.token.exchange.decisions";
    static final String UNAVAILABLE = "deputy.requests.unavailable";
    /** Rule ids come from the tenant's policy files; a longer one is cut (a label is not a document). */
    private static final int MAX_RULE = 64;

    /** The registered grant types (IANA "OAuth Grant Types"): what a grant label may say. */
    private static final Set<String> GRANTS = Set.of(GrantType.AUTHORIZATION_CODE.getValue(),
            GrantType.CLIENT_CREDENTIALS.getValue(), GrantType.REFRESH_TOKEN.getValue(),
            GrantType.TOKEN_EXCHANGE.getValue(), GrantType.JWT_BEARER.getValue(), GrantType.PASSWORD.getValue(),
            GrantType.IMPLICIT.getValue(), GrantType.DEVICE_CODE.getValue(), GrantType.CIBA.getValue(),
            GrantType.SAML2_BEARER.getValue());
    /** Client authentication methods (RFC 7591 §2 registry, RFC 8705) and the broker's own "unauthenticated". */
    private static final Set<String> METHODS = Set.of("tls_client_auth", "self_signed_tls_client_auth",
            "private_key_jwt", "client_secret_basic", "client_secret_post", "client_secret_jwt", "none",
            UNAUTHENTICATED);
    /** OAuth error codes an endpoint of the broker can answer (RFC 6749 §5.2, RFC 8707, RFC 8693, RFC 9449...). */
    private static final Set<String> ERRORS = Set.of("invalid_request", "invalid_client", "invalid_grant",
            "unauthorized_client", "unsupported_grant_type", "invalid_scope", "invalid_target", "access_denied",
            "server_error", "temporarily_unavailable", "invalid_token", "unsupported_token_type", "invalid_dpop_proof",
            "use_dpop_nonce", "authorization_pending", "slow_down", "expired_token", "invalid_authorization_details");

    private record Issued(String tenant, String grant, String method) {
    }

    private record Refused(String tenant, String grant, String method, String error) {
    }

    private record EndpointRefused(String tenant, ClientFrontDoor.Endpoint endpoint, String method, String error) {
    }

    private record Exchange(String tenant, String rule, boolean allowed) {
    }

    private final MeterRegistry registry;
    private final Map<Issued, Counter> issued = new ConcurrentHashMap<>();
    private final Map<Refused, Counter> refused = new ConcurrentHashMap<>();
    private final Map<EndpointRefused, Counter> endpointRefused = new ConcurrentHashMap<>();
    private final Map<Exchange, Counter> exchange = new ConcurrentHashMap<>();
    private final Map<String, Counter> unavailable = new ConcurrentHashMap<>();

    public TokenMeters(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void issued(String tenant, String grantType, String method) {
        issued.computeIfAbsent(new Issued(tenant, grant(grantType), method(method)), k -> Counter.builder(ISSUED)
                .description("Token responses sent (RFC 6749 §5.1), by tenant, grant type and client authentication method")
                .tag("tenant", k.tenant()).tag("grant", k.grant()).tag("method", k.method())
                .register(registry)).increment();
    }

    @Override
    public void refused(String tenant, String grantType, String method, String error) {
        refused.computeIfAbsent(new Refused(tenant, grant(grantType), method(method), error(error)),
                k -> Counter.builder(REFUSED)
                        .description("Token requests refused (RFC 6749 §5.2), by tenant, grant type, method and error code")
                        .tag("tenant", k.tenant()).tag("grant", k.grant()).tag("method", k.method())
                        .tag("error", k.error()).register(registry)).increment();
    }

    @Override
    public void endpointRefused(String tenant, ClientFrontDoor.Endpoint endpoint, String method, String error) {
        endpointRefused.computeIfAbsent(new EndpointRefused(tenant, endpoint, method(method), error(error)),
                k -> Counter.builder(ENDPOINT_REFUSED)
                        .description("Refused requests at introspection, revocation and tool-call reports")
                        .tag("tenant", k.tenant()).tag("endpoint", k.endpoint().name().toLowerCase())
                        .tag("method", k.method()).tag("error", k.error()).register(registry)).increment();
    }

    @Override
    public void unavailable(String reason) {
        String r = TokenMetrics.unavailableReason(reason);
        unavailable.computeIfAbsent(r, k -> Counter.builder(UNAVAILABLE)
                .description("503 temporarily_unavailable answers, by what was unavailable")
                .tag("reason", k).register(registry)).increment();
    }

    @Override
    public void exchangeDecided(String tenant, String rule, boolean allowed) {
        String r = rule == null || rule.isEmpty() ? OTHER : rule.length() > MAX_RULE ? rule.substring(0, MAX_RULE) : rule;
        exchange.computeIfAbsent(new Exchange(tenant, r, allowed), k -> Counter.builder(EXCHANGE)
                .description("Token exchange (RFC 8693) delegation decisions, by the policy rule that decided")
                .tag("tenant", k.tenant()).tag("rule", k.rule()).tag("decision", k.allowed() ? "allow" : "deny")
                .register(registry)).increment();
    }

    static String grant(String grantType) {
        if (grantType == null) {
            return "missing";
        }
        return GRANTS.contains(grantType) ? grantType : OTHER;
    }

    static String method(String method) {
        return method != null && METHODS.contains(method) ? method : OTHER;
    }

    static String error(String error) {
        return error != null && ERRORS.contains(error) ? error : OTHER;
    }
}
