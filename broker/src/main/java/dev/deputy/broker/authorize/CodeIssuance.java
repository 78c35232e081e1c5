package dev.deputy.broker.authorize;

import com.nimbusds.oauth2.sdk.AuthorizationCode;
import com.nimbusds.oauth2.sdk.AuthorizationErrorResponse;
import com.nimbusds.oauth2.sdk.AuthorizationResponse;
import com.nimbusds.oauth2.sdk.AuthorizationSuccessResponse;
import com.nimbusds.oauth2.sdk.ErrorObject;
import com.nimbusds.oauth2.sdk.ResponseMode;
import com.nimbusds.oauth2.sdk.id.Issuer;
import com.nimbusds.oauth2.sdk.util.URLUtils;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditEvent.Outcome;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.config.PublicUrl;
import dev.deputy.broker.federation.AuthRequest;
import dev.deputy.broker.federation.AuthorizationCodes;
import dev.deputy.broker.federation.CodeGrant;
import dev.deputy.broker.federation.CookieSpec;
import dev.deputy.broker.federation.Session;
import dev.deputy.broker.federation.Sessions;
import dev.deputy.broker.tenant.Tenant;
import jakarta.inject.Singleton;

import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Issues the authorization code (single use, bound to client, redirect URI, PKCE challenge, resource and actor)
 * and builds the authorization responses: Nimbus {@link AuthorizationSuccessResponse} /
 * {@link AuthorizationErrorResponse} with {@code iss} (RFC 9207 §2), on the client's redirect URI.
 */
@Singleton
public class CodeIssuance {
    private final AuthorizationCodes codes;
    private final AuditLog audit;
    private final PublicUrl publicUrl;

    public CodeIssuance(AuthorizationCodes codes, AuditLog audit, PublicUrl publicUrl) {
        this.codes = codes;
        this.audit = audit;
        this.publicUrl = publicUrl;
    }

    /** Issues a code for the session's user and answers with the redirect to the client. */
    AuthorizeOutcome issue(Tenant tenant, AuthRequest req, Session s, List<String> granted, RequestMeta meta,
                           List<CookieSpec> cookies) {
        Map<String, Object> claims = new LinkedHashMap<>();
        if (s.email() != null) {
            claims.put("email", s.email());
        }
        if (s.name() != null) {
            claims.put("name", s.name());
        }
        if (!s.groups().isEmpty()) {
            claims.put("groups", s.groups());
        }
        CodeGrant g = new CodeGrant(tenant.id(), req.clientId(), req.redirectUri(), req.redirectUriGiven(),
                req.codeChallenge(), req.resource(), s.userId(), s.upstreamSub(), s.upstreamIss(), granted, claims,
                s.authTime(), "fam_" + Sessions.random().substring(0, 26), req.requestedActor());
        String code = codes.issue(g);
        audit.append(AuditEvent.of(tenant.id(), "authorize.code_issued", Outcome.SUCCESS).subject(s.upstreamSub(), s.upstreamIss())
                .client(req.clientId()).resource(req.resource()).scopes(String.join(" ", granted)).request(meta)
                .detail("user_id", s.userId()).build());
        AuthorizationSuccessResponse response = new AuthorizationSuccessResponse(URI.create(req.redirectUri()),
                new AuthorizationCode(code), null, null, new Issuer(publicUrl.issuer(tenant.id())), ResponseMode.QUERY);
        return new AuthorizeOutcome.Redirect(redirect(response, req.state()), cookies);
    }

    /** RFC 6749 §4.1.2.1 + RFC 9207 §2: error, error_description, state and iss on the client's redirect URI. */
    static AuthorizeOutcome errorRedirect(String redirectUri, ErrorObject error, String state, String issuer,
                                          List<CookieSpec> cookies) {
        AuthorizationErrorResponse response = new AuthorizationErrorResponse(URI.create(redirectUri),
                new ErrorObject(error.getCode(), AuthorizeErrors.describable(error.getDescription())), null,
                new Issuer(issuer), ResponseMode.QUERY);
        return new AuthorizeOutcome.Redirect(redirect(response, state), cookies);
    }

    /**
     * The response's parameters on the redirect URI, keeping its own query (RFC 6749 §3.1.2). {@code state} is set
     * here, byte for byte as the client sent it (RFC 6749 §4.1.2): Nimbus's {@code State} trims white space.
     */
    static URI redirect(AuthorizationResponse response, String state) {
        Map<String, List<String>> p = new LinkedHashMap<>(response.toParameters());
        if (state != null) {
            p.put("state", List.of(state));
        }
        String uri = response.getRedirectionURI().toString();
        return URI.create(uri + (uri.contains("?") ? "&" : "?") + URLUtils.serializeParameters(p));
    }
}
