package dev.deputy.broker.oauth;

import com.nimbusds.oauth2.sdk.ErrorObject;
import com.nimbusds.oauth2.sdk.auth.ClientAuthentication;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.TokenRequest;
import com.nimbusds.oauth2.sdk.http.HTTPRequest;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.health.ServiceUnavailableException;
import dev.deputy.broker.tenant.Tenant;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The token endpoint (RFC 6749 §3.2): parse (Nimbus {@code TokenRequest}) → find the {@link GrantHandler} by
 * grant type → authenticate the client ({@link ClientAuthPipeline}) → handle → audit → answer. Every failure
 * is answered with the RFC's error code and written to the audit log as {@code token.rejected}.
 */
@Singleton
public class TokenEndpoint {
    private static final Logger LOG = LoggerFactory.getLogger(TokenEndpoint.class);

    private final Map<String, GrantHandler> handlers;
    private final ClientAuthPipeline clientAuth;
    private final Endpoints endpoints;
    private final AuditLog audit;

    public TokenEndpoint(List<GrantHandler> handlers, ClientAuthPipeline clientAuth, Endpoints endpoints, AuditLog audit) {
        Map<String, GrantHandler> byType = new TreeMap<>();
        for (GrantHandler h : handlers) {
            if (byType.put(h.grantType(), h) != null) {
                throw new IllegalStateException("two grant handlers for " + h.grantType());
            }
        }
        this.handlers = Collections.unmodifiableMap(byType);
        this.clientAuth = clientAuth;
        this.endpoints = endpoints;
        this.audit = audit;
    }

    private ClientUsage usage = ClientUsage.NONE;

    /** Set once at start-up (setter injection keeps the constructor as it is). */
    @jakarta.inject.Inject
    void usage(ClientUsage usage) {
        this.usage = usage;
    }

    /** The grant types with a handler: {@code grant_types_supported} is computed from this. */
    public Set<String> grantTypes() {
        return handlers.keySet();
    }

    public EndpointResponse handle(Tenant tenant, HTTPRequest request, RequestMeta meta) {
        String issuer = endpoints.issuer(tenant.id());
        AuthenticatedClient client = null;
        String grantType = ClientAuthPipeline.param(request, "grant_type");
        try {
            // RFC 6749 §5.2: unsupported_grant_type before anything costly
            if (grantType == null) {
                throw new OAuthException(OAuth2Error.INVALID_REQUEST, "missing grant_type");
            }
            GrantHandler handler = handlers.get(grantType);
            if (handler == null) {
                throw new OAuthException(OAuth2Error.UNSUPPORTED_GRANT_TYPE, "grant_type not supported here");
            }
            // the assertion is parsed here, once: a malformed one is invalid_client (RFC 7523 §3.2), not invalid_request
            ClientAuthentication auth = ClientAuthPipeline.parse(request);
            TokenRequest tokenRequest = TokenRequests.parse(request, auth);
            client = clientAuth.authenticate(tenant, issuer, request, auth);
            TokenResult result = handler.handle(new TokenContext(tenant, issuer, tokenRequest, request, client, meta));
            if (result.audit() != null) {
                audit.append(result.audit());
            }
            usage.tokenIssued(tenant.id(), client); // DCR registrations expire by last use (issue 14 finding 4)
            return EndpointResponse.ok(result.body());
        } catch (OAuthException e) {
            rejected(tenant, request, meta, client, grantType, e.error());
            return EndpointResponse.error(e.error());
        } catch (ServiceUnavailableException e) {
            throw e;
        } catch (RuntimeException e) {
            LOG.error("token endpoint failure (tenant {}, grant {})", tenant.id(), grantType, e);
            ErrorObject err = OAuth2Error.SERVER_ERROR.setDescription("unexpected error");
            rejected(tenant, request, meta, client, grantType, err);
            return EndpointResponse.error(err);
        }
    }

    private void rejected(Tenant tenant, HTTPRequest request, RequestMeta meta, AuthenticatedClient client,
                          String grantType, ErrorObject error) {
        String claimed = client != null ? client.clientId() : ClientAuthPipeline.claimedClientId(request);
        String agent = client != null ? client.agentId() : claimed;
        try {
            audit.append(AuditEvent.of(tenant.id(), "token.rejected", AuditEvent.Outcome.FAILURE)
                    .client(claimed).agent(agent).request(meta)
                    .detail("error", error.getCode())
                    .detail("reason", error.getDescription())
                    .detail("grant_type", grantType == null || grantType.length() > 100 ? null : grantType)
                    .detail("authenticated", client != null)
                    .build());
        } catch (RuntimeException e) {
            LOG.warn("could not audit a token rejection (tenant {}): {}", tenant.id(), e.toString());
        }
    }
}
