package dev.deputy.broker.grant.clientcredentials;

import com.nimbusds.oauth2.sdk.GrantType;
import com.nimbusds.oauth2.sdk.OAuth2Error;
import com.nimbusds.oauth2.sdk.Scope;
import dev.deputy.broker.agent.Agent;
import dev.deputy.broker.agent.AgentStore;
import dev.deputy.broker.agent.Resource;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.oauth.AgentDirectory;
import dev.deputy.broker.oauth.AuthenticatedClient;
import dev.deputy.broker.oauth.GrantHandler;
import dev.deputy.broker.oauth.GrantSupport;
import dev.deputy.broker.oauth.OAuthException;
import dev.deputy.broker.oauth.TokenContext;
import dev.deputy.broker.oauth.TokenResult;
import dev.deputy.broker.token.AccessTokenSpec;
import dev.deputy.broker.token.AccessTokens;
import dev.deputy.broker.token.MintedToken;
import jakarta.inject.Singleton;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
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
    private final GrantSupport kit;

    public ClientCredentialsGrant(AgentDirectory directory, AgentStore agents, AccessTokens tokens, GrantSupport kit) {
        this.directory = directory;
        this.agents = agents;
        this.tokens = tokens;
        this.kit = kit;
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
                .orElseThrow(() -> OAuthException.of(OAuth2Error.INVALID_CLIENT, "client authentication failed",
                        "unknown agent"));
        Resource resource = kit.resource(ctx);
        Set<String> granted = new LinkedHashSet<>();
        for (String s : kit.agentScopes(tenantId, agent)) {
            if (resource.scopes().contains(s)) {
                granted.add(s);
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
        MintedToken minted = tokens.mint(AccessTokenSpec.of(tenantId, client.clientId()).agent(agent.id())
                .audience(resource.uri()).scopes(scopes).boundTo(client.certThumbprint()).build());
        agents.touchLastSeen(tenantId, agent.id(), System.currentTimeMillis());
        // the token's sub is the agent id (an agent acting alone): the entry's subject says the same
        AuditEvent event = AuditEvent.of(tenantId, "token.issued", AuditEvent.Outcome.SUCCESS)
                .subject(agent.id(), null).agent(agent.id()).client(client.clientId()).resource(resource.uri()).scopes(String.join(" ", scopes))
                .request(ctx.meta())
                .detail("grant_type", grantType()).detail("jti", minted.jti()).detail("auth_method", client.method())
                .detail("cert_bound", client.certThumbprint() != null)
                .detail("exp", minted.expiresAt().getEpochSecond())
                .build();
        // RFC 6749 §5.1 (scope always: it may differ from what was asked); no refresh token (§4.4.3)
        return new TokenResult(GrantSupport.response(minted, scopes, null), event);
    }
}
