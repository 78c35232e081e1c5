package dev.deputy.broker.governance;

import com.nimbusds.oauth2.sdk.ErrorObject;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.ParseException;
import com.nimbusds.oauth2.sdk.ciba.CIBAError;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import com.nimbusds.oauth2.sdk.rar.AuthorizationDetail;
import com.nimbusds.jwt.JWTClaimsSet;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.agent.ResourceIndicators;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.config.ApprovalsFile;
import dev.deputy.broker.federation.Sessions;
import dev.deputy.broker.federation.User;
import dev.deputy.broker.federation.UserStore;
import dev.deputy.broker.oauth.AgentDirectory;
import dev.deputy.broker.oauth.ClientAuthPipeline;
import dev.deputy.broker.oauth.ClientFrontDoor;
import dev.deputy.broker.oauth.DeputyTokens;
import dev.deputy.broker.oauth.EndpointResponse;
import dev.deputy.broker.oauth.OAuthException;
import dev.deputy.broker.tenant.Tenant;
import jakarta.inject.Singleton;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The OpenID CIBA Core 1.0 backchannel authentication endpoint of a tenant ({@code <issuer>/bc-authorize}, §7), behind
 * the {@link ClientFrontDoor}: a CIBA client of the tenant ({@code approvals.clients} in tenant.yml) that authenticated
 * with {@code private_key_jwt} or mTLS asks a user to approve one transaction, described by RFC 9396
 * {@code authorization_details}. The answer is the acknowledgement (§7.3: {@code auth_req_id}, {@code expires_in},
 * {@code interval}); the user decides on their account page; the client polls the token endpoint (or is pinged, §10.2).
 *
 * <p>Parameters (§7.1): exactly one of {@code login_hint} (the user's upstream {@code sub} or e-mail) and
 * {@code login_hint_token} (a Deputy access token about the user, e.g. the one an agent presented to the MCP server
 * asking; its {@code act} chain becomes the approved token's); {@code id_token_hint} and signed requests
 * ({@code request}) are not supported; {@code binding_message}, {@code requested_expiry}, {@code scope},
 * {@code resource} (RFC 8707), {@code authorization_details} (required), {@code client_notification_token} (ping).
 */
@Singleton
public class BackchannelAuthentication {
    /** How a CIBA client authenticates: never a shared secret, never a public client. */
    /** CIBA clients are agents: mTLS or private_key_jwt (the decision point's own set has no private_key_jwt any more). */
    static final Set<String> METHODS = Set.of("tls_client_auth", "self_signed_tls_client_auth", "private_key_jwt");
    static final int MAX_BINDING_MESSAGE = 100;
    static final int MAX_DETAILS = 8192;
    static final ErrorObject INVALID_AUTHORIZATION_DETAILS = new ErrorObject("invalid_authorization_details",
            "invalid authorization_details", 400);

    private final ClientFrontDoor door;
    private final ApprovalSettings settings;
    private final Approvals approvals;
    private final UserStore users;
    private final DeputyTokens tokens;
    private final AgentDirectory directory;
    private final Clock clock = Clock.systemUTC();

    public BackchannelAuthentication(ClientFrontDoor door, ApprovalSettings settings, Approvals approvals, UserStore users,
                                     DeputyTokens tokens, AgentDirectory directory) {
        this.door = door;
        this.settings = settings;
        this.approvals = approvals;
        this.users = users;
        this.tokens = tokens;
        this.directory = directory;
    }

    public EndpointResponse handle(Tenant tenant, HTTPRequest request, RequestMeta meta) {
        return door.serve(ClientFrontDoor.Endpoint.BACKCHANNEL, tenant, request, meta, call -> {
            String clientId = call.client().clientId();
            ApprovalsFile config = settings.of(tenant.id());
            ApprovalsFile.CibaClient registered = config.clients().get(clientId);
            // CIBA §13: a client not registered for CIBA is unauthorized_client
            if (registered == null) {
                throw OAuthException.of(OAuth2Error.UNAUTHORIZED_CLIENT, "this client is not registered for CIBA",
                        "not_a_ciba_client");
            }
            if (!METHODS.contains(call.client().method())) {
                throw OAuthException.of(OAuth2Error.UNAUTHORIZED_CLIENT,
                        "CIBA clients authenticate with mTLS or private_key_jwt", "ciba_client_method_" + call.client().method());
            }
            HTTPRequest r = call.request();
            // CIBA §7.1.1: signed authentication requests are optional; not supported here
            if (ClientAuthPipeline.param(r, "request") != null) {
                throw OAuthException.of(OAuth2Error.INVALID_REQUEST, "signed authentication requests (request) are not supported",
                        "request_object");
            }
            Hinted who = user(tenant.id(), r);
            Resource resource = resource(tenant.id(), r);
            if (who.hintAudience() != null && !who.hintAudience().contains(resource.uri())) {
                throw OAuthException.of(CIBAError.UNKNOWN_USER_ID, "login_hint_token is not for this resource",
                        "hint_token_other_resource").detail("login_hint_kind", "login_hint_token");
            }
            List<String> scopes = scopes(r, resource);
            List<Map<String, Object>> details = details(r, config, resource);
            String binding = ClientAuthPipeline.param(r, "binding_message");
            // CIBA §7.1: short plain text shown to the user on both devices
            if (binding != null && (binding.length() > MAX_BINDING_MESSAGE || binding.chars().anyMatch(Character::isISOControl))) {
                throw OAuthException.of(CIBAError.INVALID_BINDING_MESSAGE, "binding_message must be at most "
                        + MAX_BINDING_MESSAGE + " characters of plain text", "binding_message");
            }
            Duration expiry = expiry(r, config);
            String token = ClientAuthPipeline.param(r, "client_notification_token");
            if (registered.ping()) {
                // CIBA §7.1: REQUIRED for ping clients
                if (token == null || token.length() > 1024) {
                    throw OAuthException.of(OAuth2Error.INVALID_REQUEST, "client_notification_token is required (ping)",
                            "notification_token");
                }
            } else {
                token = null;
            }
            String authReqId = Sessions.random();
            long now = clock.millis();
            List<String> actors = who.actors() != null ? who.actors()
                    : call.client().agentId() == null ? List.of() : List.of(call.client().agentId());
            User u = who.user();
            int interval = (int) config.interval().toSeconds();
            Approvals.Pending p = new Approvals.Pending(tenant.id(), Approvals.idOf(authReqId),
                    registered.ping() ? authReqId : null, clientId, call.client().agentId(), u.id(), u.upstreamSub(),
                    u.upstreamIss(), u.email() != null ? u.email() : u.upstreamSub(), actors, resource.uri(), scopes,
                    details, binding, now, now + expiry.toMillis(), interval, registered.backchannelTokenDeliveryMode(),
                    registered.backchannelClientNotificationEndpoint(), token);
            approvals.create(p, call.meta());
            // CIBA §7.3: auth_req_id, expires_in, interval (poll; also given to ping clients as a fallback)
            Map<String, Object> ack = new LinkedHashMap<>();
            ack.put("auth_req_id", authReqId);
            ack.put("expires_in", expiry.toSeconds());
            ack.put("interval", interval);
            return EndpointResponse.ok(ack);
        });
    }

    /** The user and, with a login_hint_token, the act chain and audience of that token. */
    record Hinted(User user, List<String> actors, List<String> hintAudience) {
    }

    private Hinted user(String tenantId, HTTPRequest r) {
        String hint = ClientAuthPipeline.param(r, "login_hint");
        String hintToken = ClientAuthPipeline.param(r, "login_hint_token");
        String idTokenHint = ClientAuthPipeline.param(r, "id_token_hint");
        int given = (hint != null ? 1 : 0) + (hintToken != null ? 1 : 0) + (idTokenHint != null ? 1 : 0);
        // CIBA §7.1: exactly one of the hints
        if (given != 1) {
            throw OAuthException.of(OAuth2Error.INVALID_REQUEST,
                    "exactly one of login_hint, login_hint_token, id_token_hint is required", "hints_" + given);
        }
        if (idTokenHint != null) {
            throw OAuthException.of(OAuth2Error.INVALID_REQUEST, "id_token_hint is not supported: use login_hint or "
                    + "login_hint_token", "id_token_hint");
        }
        if (hint != null) {
            if (hint.length() > 320) {
                throw unknownUser("login_hint_too_long", "login_hint");
            }
            List<User> found = users.findByHint(tenantId, hint);
            if (found.size() != 1) {
                throw unknownUser(found.isEmpty() ? "unknown_user" : "ambiguous_login_hint", "login_hint");
            }
            return new Hinted(active(found.get(0), "login_hint"), null, null);
        }
        DeputyTokens.Verdict v = hintToken.length() > 16384 ? new DeputyTokens.Verdict(null, null, "malformed")
                : tokens.check(tenantId, hintToken);
        if ("expired".equals(v.inactive())) {
            // CIBA §13: expired_login_hint_token
            throw OAuthException.of(CIBAError.EXPIRED_LOGIN_HINT_TOKEN, "login_hint_token has expired",
                    "hint_token_expired").detail("login_hint_kind", "login_hint_token");
        }
        if (!v.verified()) {
            throw unknownUser("hint_token_" + v.inactive(), "login_hint_token");
        }
        JWTClaimsSet c = v.claims();
        if (!v.active() || !(c.getClaim("sub_id") instanceof Map<?, ?> subId) || !(subId.get("iss") instanceof String iss)) {
            throw unknownUser("hint_token_" + (v.active() ? "not_a_user" : v.inactive()), "login_hint_token");
        }
        List<User> found = users.findByUpstream(tenantId, iss, c.getSubject());
        if (found.isEmpty()) {
            throw unknownUser("unknown_user", "login_hint_token");
        }
        return new Hinted(active(found.get(0), "login_hint_token"), DeputyTokens.actorChain(c), c.getAudience());
    }

    private static User active(User u, String kind) {
        if (!u.active()) {
            throw OAuthException.of(OAuth2Error.ACCESS_DENIED.setHTTPStatusCode(403), "the user may not be asked",
                    "user_suspended").detail("login_hint_kind", kind);
        }
        return u;
    }

    private static OAuthException unknownUser(String reason, String kind) {
        // CIBA §13 unknown_user_id: the hint names nobody (or nobody unambiguously); never says which
        return OAuthException.of(CIBAError.UNKNOWN_USER_ID, "the hint does not identify a user", reason)
                .detail("login_hint_kind", kind);
    }

    private Resource resource(String tenantId, HTTPRequest r) {
        List<String> named = new ArrayList<>();
        try {
            List<String> v = r.getBodyAsFormParameters().get("resource");
            if (v != null) {
                named.addAll(v);
            }
        } catch (ParseException e) {
            throw OAuthException.of(OAuth2Error.INVALID_REQUEST, "malformed form body", "form");
        }
        try {
            return ResourceIndicators.resolve(directory.resources(tenantId), named, null);
        } catch (ResourceIndicators.Refused e) {
            throw OAuthException.of(OAuth2Error.INVALID_TARGET, e.getMessage(), e.reason());
        }
    }

    /** Scopes for the token: optional here (the transaction is in authorization_details); those of the resource only. */
    private static List<String> scopes(HTTPRequest r, Resource resource) {
        String scope = ClientAuthPipeline.param(r, "scope");
        Set<String> out = new LinkedHashSet<>();
        if (scope != null) {
            for (String s : scope.trim().split(" +")) {
                if (s.equals("openid")) {
                    continue; // no ID token is issued: the approval is for a transaction, not a login
                }
                if (!resource.scopes().contains(s)) {
                    throw OAuthException.of(OAuth2Error.INVALID_SCOPE, "scope not offered by the resource", "unknown_scope");
                }
                out.add(s);
            }
        }
        return List.copyOf(out);
    }

    /**
     * RFC 9396 §2, §5: a JSON array of objects, each of a type the tenant allows; {@code deputy_tool_call} needs
     * {@code tool} (a string) and may have {@code arguments} (an object) and {@code locations} (the resource).
     */
    private static List<Map<String, Object>> details(HTTPRequest r, ApprovalsFile config, Resource resource) {
        String raw = ClientAuthPipeline.param(r, "authorization_details");
        if (raw == null) {
            throw invalidDetails("authorization_details naming the transaction is required", "details_missing");
        }
        if (raw.length() > MAX_DETAILS) {
            throw invalidDetails("authorization_details is larger than " + MAX_DETAILS + " characters", "details_too_large");
        }
        List<AuthorizationDetail> parsed;
        try {
            parsed = AuthorizationDetail.parseList(raw);
        } catch (ParseException | RuntimeException e) {
            throw invalidDetails("authorization_details must be a JSON array of objects with a type", "details_malformed");
        }
        if (parsed.isEmpty() || parsed.size() > 10) {
            throw invalidDetails("authorization_details must hold 1 to 10 objects", "details_count");
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (AuthorizationDetail d : parsed) {
            String type = d.getType().getValue();
            if (!config.authorizationDetailsTypes().contains(type)) {
                throw invalidDetails("authorization_details type not allowed here", "details_type");
            }
            Map<String, Object> json = new LinkedHashMap<>(d.toJSONObject());
            if (ApprovalsFile.TOOL_CALL.equals(type)) {
                if (!(json.get("tool") instanceof String tool) || tool.isEmpty() || tool.length() > 256) {
                    throw invalidDetails("deputy_tool_call needs tool (the MCP tool name)", "details_tool");
                }
                Object args = json.get("arguments");
                if (args != null && !(args instanceof Map)) {
                    throw invalidDetails("deputy_tool_call arguments must be an object", "details_arguments");
                }
                // RFC 9396 §2.2 locations: where the transaction happens; must be the token's resource
                if (json.get("locations") instanceof List<?> locs && !locs.isEmpty()
                        && locs.stream().noneMatch(l -> resource.uri().equals(l))) {
                    throw invalidDetails("authorization_details locations must name the resource", "details_locations");
                }
            }
            out.add(json);
        }
        return out;
    }

    private static OAuthException invalidDetails(String description, String reason) {
        return OAuthException.of(new ErrorObject(INVALID_AUTHORIZATION_DETAILS.getCode(), description, 400), description, reason);
    }

    private static Duration expiry(HTTPRequest r, ApprovalsFile config) {
        String v = ClientAuthPipeline.param(r, "requested_expiry");
        if (v == null) {
            return config.defaultExpiry();
        }
        long seconds;
        try {
            seconds = Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw OAuthException.of(OAuth2Error.INVALID_REQUEST, "requested_expiry must be a positive integer",
                    "requested_expiry");
        }
        if (seconds < 1) {
            throw OAuthException.of(OAuth2Error.INVALID_REQUEST, "requested_expiry must be a positive integer",
                    "requested_expiry");
        }
        // CIBA §7.1: the OP may cut a requested expiry to its own limit
        return Duration.ofSeconds(Math.min(seconds, config.maxExpiry().toSeconds()));
    }
}
