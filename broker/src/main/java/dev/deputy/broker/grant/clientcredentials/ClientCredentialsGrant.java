package dev.deputy.broker.grant.clientcredentials;

import com.nimbusds.oauth2.sdk.GrantType;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.Scope;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.agent.Role;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.oauth.AgentDirectory;
import dev.deputy.broker.oauth.AuthenticatedClient;
import dev.deputy.broker.oauth.GrantHandler;
import dev.deputy.broker.oauth.OAuthException;
import dev.deputy.broker.oauth.TokenContext;
import dev.deputy.broker.oauth.TokenResult;
import dev.deputy.broker.token.AccessTokenSpec;
import dev.deputy.broker.token.AccessTokens;
import dev.deputy.broker.token.MintedToken;
import jakarta.inject.Singleton;

import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The client credentials grant (RFC 6749 §4.4) for agents acting alone. The token is for one resource (RFC 8707:
 * the requested {@code resource}, else the tenant's default one) and carries the requested scopes, all of which
 * the agent's roles (in its environment) must grant and the resource must accept; no scope requested means all of
 * those. No refresh token (RFC 6749 §4.4.3).
 */
@Singleton
public class ClientCredentialsGrant implements GrantHandler {
    private final AgentDirectory directory;
    private final AgentStore agents;
    private final AccessTokens tokens;

    public ClientCredentialsGrant(AgentDirectory directory, AgentStore agents, AccessTokens tokens) {
        this.directory = directory;
        this.agents = agents;
        this.tokens = tokens;
    }

    @Override
    public String grantType() {
        return GrantType.CLIENT_CREDENTIALS.getValue();
    }

    @Override
    public TokenResult handle(TokenContext ctx) {
        AuthenticatedClient client = ctx.client();
        String tenantId = ctx.tenant().id();
        // RFC 6749 §4.4: confidential clients only; here: agents only
        if (client.agentId() == null || client.isPublic()) {
            throw new OAuthException(OAuth2Error.UNAUTHORIZED_CLIENT, "client_credentials is for agents");
        }
        Agent agent = directory.agent(tenantId, client.agentId())
                .orElseThrow(() -> new OAuthException(OAuth2Error.INVALID_CLIENT, "unknown agent"));
        Resource resource = resource(tenantId, ctx.request().getResources());
        Set<String> granted = new LinkedHashSet<>();
        for (Role role : directory.roles(tenantId)) {
            if (agent.roles().contains(role.name()) && role.appliesIn(agent.environment())) {
                for (String s : role.scopes()) {
                    if (resource.scopes().contains(s)) {
                        granted.add(s);
                    }
                }
            }
        }
        List<String> scopes;
        Scope requested = ctx.request().getScope();
        if (requested != null && !requested.isEmpty()) {
            // RFC 6749 §5.2 invalid_scope: anything beyond what the roles grant on this resource
            List<String> beyond = requested.toStringList().stream().filter(s -> !granted.contains(s)).toList();
            if (!beyond.isEmpty()) {
                throw new OAuthException(OAuth2Error.INVALID_SCOPE, "scope not granted to this agent on this resource");
            }
            scopes = List.copyOf(new LinkedHashSet<>(requested.toStringList()));
        } else {
            if (granted.isEmpty()) {
                throw new OAuthException(OAuth2Error.INVALID_SCOPE, "the agent's roles grant no scope on this resource");
            }
            scopes = new ArrayList<>(granted);
        }
        MintedToken minted = tokens.mint(new AccessTokenSpec(tenantId, agent.id(), null, List.of(), client.clientId(),
                resource.uri(), scopes, client.certThumbprint(), null, null, Map.of()));
        agents.touchLastSeen(tenantId, agent.id(), System.currentTimeMillis());
        // RFC 6749 §5.1
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("access_token", minted.token());
        body.put("token_type", "Bearer");
        body.put("expires_in", minted.expiresIn());
        body.put("scope", String.join(" ", scopes));
        // the token's sub is the agent id (an agent acting alone): the entry's subject says the same
        AuditEvent event = AuditEvent.of(tenantId, "token.issued", AuditEvent.Outcome.SUCCESS)
                .subject(agent.id(), null).agent(agent.id()).client(client.clientId()).resource(resource.uri()).scopes(String.join(" ", scopes))
                .request(ctx.meta())
                .detail("grant_type", grantType()).detail("jti", minted.jti()).detail("auth_method", client.method())
                .detail("cert_bound", client.certThumbprint() != null)
                .detail("exp", minted.expiresAt().getEpochSecond())
                .build();
        return new TokenResult(body, event);
    }

    /** RFC 8707 §2: one resource per token here; it must be registered. None named: the tenant's default. */
    private Resource resource(String tenantId, List<URI> requested) {
        List<Resource> all = directory.resources(tenantId);
        if (requested == null || requested.isEmpty()) {
            return all.stream().filter(Resource::isDefault).findFirst()
                    .orElseThrow(() -> new OAuthException(OAuth2Error.INVALID_TARGET,
                            "no resource requested and the tenant has no default resource"));
        }
        if (requested.size() > 1) {
            throw new OAuthException(OAuth2Error.INVALID_TARGET, "one resource per token");
        }
        String wanted = Resource.canonical(requested.get(0).toString());
        return all.stream().filter(r -> Resource.canonical(r.uri()).equals(wanted)).findFirst()
                .orElseThrow(() -> new OAuthException(OAuth2Error.INVALID_TARGET, "unknown resource"));
    }
}
