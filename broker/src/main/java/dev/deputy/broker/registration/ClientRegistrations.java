package dev.deputy.broker.registration;

import com.nimbusds.oauth2.sdk.ErrorObject;
import com.nimbusds.oauth2.sdk.GrantType;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.ParseException;
import com.nimbusds.oauth2.sdk.ResponseType;
import com.nimbusds.oauth2.sdk.auth.ClientAuthenticationMethod;
import com.nimbusds.oauth2.sdk.auth.Secret;
import com.nimbusds.oauth2.sdk.client.ClientInformation;
import com.nimbusds.oauth2.sdk.client.RegistrationError;
import com.nimbusds.oauth2.sdk.id.ClientID;
import com.nimbusds.oauth2.sdk.token.BearerAccessToken;
import com.nimbusds.oauth2.sdk.util.JSONObjectUtils;
import com.nimbusds.openid.connect.sdk.rp.OIDCClientMetadata;
import dev.deputy.broker.agent.ClientSecrets;
import dev.deputy.broker.agent.ClientStore;
import dev.deputy.broker.agent.OAuthClient;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditEvent.Outcome;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.AuditTransactions;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.config.PublicUrl;
import dev.deputy.broker.ratelimit.RateLimiter;
import dev.deputy.broker.tenant.Tenant;
import jakarta.inject.Singleton;
import net.minidev.json.JSONObject;

import java.net.URI;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Dynamic client registration (RFC 7591) and its management protocol (RFC 7592) for MCP client apps. Metadata is
 * parsed with Nimbus ({@link OIDCClientMetadata}, which adds {@code application_type}), checked against the
 * tenant's {@link RegistrationPolicy}, stored as a {@code clients} row ({@code managed_by = dcr}, external: the
 * user consents until an admin marks it internal) plus a {@link Registration} holding the hash of the
 * registration access token. Every registration, change, deletion and rejection is audited.
 */
@Singleton
public class ClientRegistrations {
    static final int MAX_BODY = 16 * 1024;
    private static final Set<GrantType> GRANTS = Set.of(GrantType.AUTHORIZATION_CODE, GrantType.REFRESH_TOKEN);
    /** Members the server sets (RFC 7591 §3.2.1 / RFC 7592 §2.2): never taken from a request. */
    private static final List<String> SERVER_MEMBERS = List.of("client_id", "client_secret", "client_id_issued_at",
            "client_secret_expires_at", "registration_access_token", "registration_client_uri");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final ClientStore clients;
    private final RegistrationStore registrations;
    private final RegistrationPolicies policies;
    private final AuditLog audit;
    private final AuditTransactions audited;
    private final PublicUrl publicUrl;
    private final RateLimiter limiter;
    private final Clock clock;

    @jakarta.inject.Inject
    public ClientRegistrations(ClientStore clients, RegistrationStore registrations, RegistrationPolicies policies,
                               AuditLog audit, AuditTransactions audited, PublicUrl publicUrl, RateLimiter limiter) {
        this(clients, registrations, policies, audit, audited, publicUrl, limiter, Clock.systemUTC());
    }

    ClientRegistrations(ClientStore clients, RegistrationStore registrations, RegistrationPolicies policies,
                        AuditLog audit, AuditTransactions audited, PublicUrl publicUrl, RateLimiter limiter,
                        Clock clock) {
        this.limiter = limiter;
        this.clients = clients;
        this.registrations = registrations;
        this.policies = policies;
        this.audit = audit;
        this.audited = audited;
        this.publicUrl = publicUrl;
        this.clock = clock;
    }

    /** The answer: HTTP status and the JSON body (client information response, RFC 7591 §3.2.1). */
    public record Response(int status, JSONObject body) {
    }

    // ============================================================================ RFC 7591 §3: POST /register

    public Response register(Tenant tenant, String body, RequestMeta meta) {
        RegistrationPolicy policy = policies.of(tenant.id());
        try {
            if (!policy.open()) {
                throw new RegistrationException(new ErrorObject("access_denied", null, 403),
                        "dynamic client registration is closed for this tenant", "closed");
            }
            long now = clock.millis();
            String source = source(meta);
            // per source address: a rate (every attempt counts) and a cap of registrations that never got a token,
            // so that one address cannot fill the tenant's max_clients (issue 14 finding 4)
            // the rate goes through the broker's one rate limiter (a token bucket of rate_per_source per rate_window,
            // shared by the nodes; 429 temporarily_unavailable with Retry-After; sampled audit entries)
            limiter.check(tenant.id(), RateLimiter.Kind.TENANT, "", limiter.limits(tenant).tenant(),
                    EventTypes.CLIENT_REGISTRATION_REJECTED, meta);
            limiter.check(tenant.id(), RateLimiter.Kind.REGISTER_PER_SOURCE, source,
                    policy.rateLimit(), EventTypes.CLIENT_REGISTRATION_REJECTED, meta);
            purgeExpired(tenant.id(), policy, now, meta);
            if (registrations.countNeverUsed(tenant.id(), source) >= policy.maxPendingPerSource()) {
                throw new RegistrationException(new ErrorObject("access_denied", null, 403),
                        "too many registrations from this address have not been used yet", "max_pending_per_source");
            }
            if (registrations.count(tenant.id()) >= policy.maxClients()) {
                throw new RegistrationException(new ErrorObject("access_denied", null, 403),
                        "this tenant's limit of registered clients is reached", "max_clients");
            }
            OIDCClientMetadata md = parse(body);
            Accepted a = accept(md, policy);
            String clientId = "dcr_" + random(16);
            String secret = a.authMethod().equals("none") ? null : random(32);
            String rat = random(32);
            OAuthClient client = new OAuthClient(tenant.id(), clientId, a.name(clientId), a.redirectUris(), false,
                    a.authMethod(), secret == null ? null : ClientSecrets.hash(secret), "dcr", now, now);
            // the client, its registration and the audit entry commit together
            audited.run(tenant.id(), tx -> {
                clients.save(client);
                registrations.save(new Registration(tenant.id(), clientId, a.metadata().toJSONObject().toJSONString(),
                        ClientSecrets.sha256Hex(rat), now, null, source));
                return tx.append(AuditEvent.of(tenant.id(), EventTypes.CLIENT_REGISTERED, Outcome.SUCCESS).client(clientId)
                        .request(meta).detail("method", "dcr").detail("redirect_uris", a.redirectUris())
                        .detail("token_endpoint_auth_method", a.authMethod())
                        .detail("application_type", a.metadata().getApplicationType().toString())
                        .detail("client_name", a.name(clientId)).build());
            });
            return new Response(201, info(tenant, clientId, now, a.metadata(), secret, rat));
        } catch (RegistrationException e) {
            rejected(tenant.id(), null, "client.registration_rejected", e, meta);
            throw e;
        }
    }

    // ============================================================================ RFC 7592 §2: read, update, delete

    public Response read(Tenant tenant, String clientId, String bearer, RequestMeta meta) {
        Registration r = authorize(tenant, clientId, bearer, meta);
        OAuthClient c = clients.find(tenant.id(), clientId).orElseThrow(RegistrationStoreException::gone);
        // RFC 7592 §2.1: the current configuration; the secret is stored hashed and cannot be shown again
        return new Response(200, info(tenant, clientId, c.createdAt(), metadata(r), null, null));
    }

    public Response update(Tenant tenant, String clientId, String bearer, String body, RequestMeta meta) {
        Registration r = authorize(tenant, clientId, bearer, meta);
        OAuthClient old = clients.find(tenant.id(), clientId).orElseThrow(RegistrationStoreException::gone);
        try {
            JSONObject json = json(body);
            // RFC 7592 §2.2: the request MUST include client_id, equal to the one in the configuration endpoint
            if (!clientId.equals(json.get("client_id"))) {
                throw new RegistrationException(RegistrationError.INVALID_CLIENT_METADATA,
                        "client_id in the body must equal the registered client_id", "client_id_mismatch");
            }
            // RFC 7592 §2.2: if the client includes client_secret, it MUST match the issued one
            Object secretIn = json.get("client_secret");
            if (secretIn != null && !ClientSecrets.verify(String.valueOf(secretIn), old.secretHash())) {
                throw new RegistrationException(RegistrationError.INVALID_CLIENT_METADATA,
                        "client_secret does not match", "client_secret_mismatch");
            }
            Accepted a = accept(parse(json), policies.of(tenant.id()));
            if (!a.authMethod().equals(old.authMethod())) {
                throw new RegistrationException(RegistrationError.INVALID_CLIENT_METADATA,
                        "token_endpoint_auth_method cannot change; register a new client", "auth_method_change");
            }
            long now = clock.millis();
            audited.run(tenant.id(), tx -> {
                clients.save(new OAuthClient(tenant.id(), clientId, a.name(clientId), a.redirectUris(), old.internal(),
                        old.authMethod(), old.secretHash(), old.managedBy(), old.createdAt(), now));
                registrations.save(new Registration(tenant.id(), clientId, a.metadata().toJSONObject().toJSONString(),
                        r.accessTokenHash(), r.issuedAt(), r.usedAt(), r.sourceAddress()));
                return tx.append(AuditEvent.of(tenant.id(), EventTypes.CLIENT_UPDATED, Outcome.SUCCESS).client(clientId)
                        .request(meta).detail("method", "dcr").detail("redirect_uris", a.redirectUris())
                        .detail("before_redirect_uris", old.redirectUris()).build());
            });
            return new Response(200, info(tenant, clientId, old.createdAt(), a.metadata(), null, null));
        } catch (RegistrationException e) {
            rejected(tenant.id(), clientId, "client.update_rejected", e, meta);
            throw e;
        }
    }

    public void delete(Tenant tenant, String clientId, String bearer, RequestMeta meta) {
        authorize(tenant, clientId, bearer, meta);
        audited.run(tenant.id(), tx -> {
            clients.delete(tenant.id(), clientId);
            registrations.delete(tenant.id(), clientId);
            return tx.append(AuditEvent.of(tenant.id(), EventTypes.CLIENT_DELETED, Outcome.SUCCESS).client(clientId)
                    .request(meta).detail("method", "dcr").build());
        });
    }

    /**
     * Registrations past the tenant's expiry are removed (also checked lazily on lookup): never used (no token) within
     * {@code pending_expiry} of registering, or no token within {@code unused_expiry} of the last one.
     */
    void purgeExpired(String tenantId, RegistrationPolicy policy, long now, RequestMeta meta) {
        for (Registration r : registrations.expired(tenantId, now - policy.pendingExpiry().toMillis(),
                now - policy.unusedExpiry().toMillis())) {
            expire(r, meta);
        }
    }

    void expire(Registration r, RequestMeta meta) {
        audited.run(r.tenantId(), tx -> {
            clients.delete(r.tenantId(), r.clientId());
            registrations.delete(r.tenantId(), r.clientId());
            return tx.append(AuditEvent.of(r.tenantId(), EventTypes.CLIENT_EXPIRED, Outcome.INFO).client(r.clientId())
                    .request(meta).detail("reason", r.usedAt() == null ? "never_used" : "unused")
                    .detail("last_used_at", r.usedAt()).build());
        });
    }

    /** The address a registration request came from (RequestMeta honours the trusted proxy setting). */
    private static String source(RequestMeta meta) {
        String ip = meta == null ? null : meta.sourceIp();
        return ip == null || ip.isBlank() ? "unknown" : ip.length() > 64 ? ip.substring(0, 64) : ip;
    }

    /** RFC 7592 §2 + RFC 6750 §3.1: a missing, wrong or foreign token is 401 invalid_token, whatever the client_id. */
    private Registration authorize(Tenant tenant, String clientId, String bearer, RequestMeta meta) {
        Optional<Registration> r = clientId == null || clientId.length() > 255 ? Optional.empty()
                : registrations.find(tenant.id(), clientId);
        if (bearer == null || r.isEmpty() || !MessageDigest.isEqual(ClientSecrets.sha256Hex(bearer).getBytes(),
                r.get().accessTokenHash().getBytes())) {
            audit.append(AuditEvent.of(tenant.id(), "client.management_denied", Outcome.DENY).client(clientId)
                    .request(meta).detail("reason", bearer == null ? "no_token" : "invalid_token").build());
            throw new RegistrationException(new ErrorObject("invalid_token", null, 401),
                    "the registration access token is missing or invalid", "invalid_token");
        }
        return r.get();
    }

    // ============================================================================ metadata checks

    /** What Deputy accepted (possibly substituted, RFC 7591 §3.2.1) from a request's metadata. */
    record Accepted(OIDCClientMetadata metadata, String authMethod, List<String> redirectUris) {
        String name(String clientId) {
            return metadata.getName() != null ? metadata.getName() : clientId;
        }
    }

    static JSONObject json(String body) {
        if (body == null || body.isBlank()) {
            throw new RegistrationException(RegistrationError.INVALID_CLIENT_METADATA, "the body must be a JSON object",
                    "empty_body");
        }
        if (body.length() > MAX_BODY) {
            throw new RegistrationException(RegistrationError.INVALID_CLIENT_METADATA, "the body is too large",
                    "body_too_large");
        }
        try {
            return JSONObjectUtils.parse(body);
        } catch (ParseException e) {
            throw new RegistrationException(RegistrationError.INVALID_CLIENT_METADATA, "the body is not a JSON object",
                    "malformed_json");
        }
    }

    static OIDCClientMetadata parse(String body) {
        return parse(json(body));
    }

    static OIDCClientMetadata parse(JSONObject json) {
        SERVER_MEMBERS.forEach(json::remove);
        if (json.containsKey("software_statement")) {
            // RFC 7591 §3.2.2: Deputy trusts no software statement issuer
            throw new RegistrationException(RegistrationError.UNAPPROVED_SOFTWARE_STATEMENT,
                    "software statements are not accepted", "software_statement");
        }
        // RFC 7591 §3.2.2: a redirect URI that is not a URI is invalid_redirect_uri (checked before Nimbus, whose
        // error text would quote it with characters RFC 6749 §5.2 forbids in error_description)
        RedirectRules.checkSyntax(json.get("redirect_uris"));
        try {
            OIDCClientMetadata md = OIDCClientMetadata.parse(json);
            md.getCustomFields().clear(); // RFC 7591 §2: unknown metadata is ignored
            return md;
        } catch (ParseException e) {
            ErrorObject eo = e.getErrorObject() != null ? e.getErrorObject() : RegistrationError.INVALID_CLIENT_METADATA;
            if (!RegistrationError.INVALID_REDIRECT_URI.getCode().equals(eo.getCode())) {
                eo = RegistrationError.INVALID_CLIENT_METADATA;
            }
            throw new RegistrationException(eo, clip(e.getMessage()), "unparseable_metadata");
        } catch (IllegalArgumentException e) {
            // Nimbus building its own error text from hostile input (any other *_uri member)
            throw new RegistrationException(RegistrationError.INVALID_CLIENT_METADATA,
                    "the client metadata holds a malformed value", "unparseable_metadata");
        }
    }

    static Accepted accept(OIDCClientMetadata md, RegistrationPolicy policy) {
        // grant and response types: the code flow only (agents use client_credentials through the agent registry)
        Set<GrantType> grants = md.getGrantTypes() == null ? Set.of(GrantType.AUTHORIZATION_CODE) : md.getGrantTypes();
        if (!GRANTS.containsAll(grants) || !grants.contains(GrantType.AUTHORIZATION_CODE)) {
            throw metadata("grant_types must be authorization_code (and refresh_token)", "grant_types");
        }
        md.setGrantTypes(new LinkedHashSet<>(grants));
        Set<ResponseType> rts = md.getResponseTypes() == null ? Set.of(ResponseType.CODE) : md.getResponseTypes();
        if (!Set.of(ResponseType.CODE).equals(rts)) {
            throw metadata("response_types must be [code]", "response_types");
        }
        md.setResponseTypes(Set.of(ResponseType.CODE));
        String method;
        if (md.getTokenEndpointAuthMethod() == null) {
            // RFC 7591 §2 default is client_secret_basic; substituted (§3.2.1) when the tenant does not allow it
            method = policy.authMethods().contains("client_secret_basic") ? "client_secret_basic" : "none";
        } else {
            method = md.getTokenEndpointAuthMethod().getValue();
        }
        if (!policy.authMethods().contains(method)) {
            throw metadata("token_endpoint_auth_method " + method + " is not allowed here (allowed: "
                    + policy.authMethods() + ")", "auth_method_forbidden");
        }
        md.setTokenEndpointAuthMethod(ClientAuthenticationMethod.parse(method));
        if (md.getJWKSet() != null || md.getJWKSetURI() != null) {
            throw metadata("jwks and jwks_uri are not used by this registration endpoint", "jwks");
        }
        List<String> redirects = md.getRedirectionURIs() == null ? List.of()
                : md.getRedirectionURIs().stream().map(URI::toString).sorted().toList();
        String type = RedirectRules.check(redirects, md.getApplicationType() == null ? null
                : md.getApplicationType().toString(), policy);
        md.setApplicationType(com.nimbusds.openid.connect.sdk.rp.ApplicationType.valueOf(type.toUpperCase()));
        if (md.getName() != null && (md.getName().isBlank() || md.getName().length() > 200)) {
            throw metadata("client_name must be 1 to 200 characters", "client_name");
        }
        return new Accepted(md, method, redirects);
    }

    private JSONObject info(Tenant tenant, String clientId, long issuedAt, OIDCClientMetadata md, String secret, String rat) {
        URI configUri = URI.create(publicUrl.issuer(tenant.id()) + "/register/" + clientId);
        ClientInformation ci = new ClientInformation(new ClientID(clientId), new Date(issuedAt), md,
                secret == null ? null : new Secret(secret), configUri,
                rat == null ? null : new BearerAccessToken(rat));
        JSONObject o = ci.toJSONObject();
        if (rat == null) {
            o.remove("registration_access_token");
        }
        return o;
    }

    private static OIDCClientMetadata metadata(Registration r) {
        try {
            return OIDCClientMetadata.parse(JSONObjectUtils.parse(r.metadataJson()));
        } catch (ParseException e) {
            throw new IllegalStateException("corrupt registration metadata for " + r.clientId(), e);
        }
    }

    private void rejected(String tenantId, String clientId, String type, RegistrationException e, RequestMeta meta) {
        audit.append(AuditEvent.of(tenantId, type, Outcome.FAILURE).client(clientId).request(meta)
                .detail("error", e.error().getCode()).detail("reason", e.reason())
                .detail("description", clip(e.getMessage())).build());
    }

    private static RegistrationException metadata(String description, String reason) {
        return new RegistrationException(RegistrationError.INVALID_CLIENT_METADATA, description, reason);
    }

    static String random(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    static String clip(String s) {
        return s == null ? null : s.length() > 300 ? s.substring(0, 300) : s;
    }

    /** A registration whose client row vanished (deleted by an admin): answered like an unknown client. */
    static final class RegistrationStoreException {
        static RegistrationException gone() {
            return new RegistrationException(new ErrorObject("invalid_token", null, 401),
                    "the registration access token is missing or invalid", "client_gone");
        }
    }
}
