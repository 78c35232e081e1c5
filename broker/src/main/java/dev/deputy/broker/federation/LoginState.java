package dev.deputy.broker.federation;

import dev.deputy.connectors.PendingLogin;

import java.net.URI;
import java.time.Instant;

/**
 * What is kept between the redirect to the upstream IdP and the callback (ephemeral store, 10 minutes,
 * taken once): the client's authorization request, the upstream login's state/nonce/PKCE verifier, and the
 * hash of the browser-binding cookie. Never logged (holds the upstream PKCE verifier).
 *
 * @param request the client's authorization request; null for a sign-in to the account page
 * @param purpose {@link #ACCOUNT} for a sign-in to the account page; null for an application's login
 */
public record LoginState(AuthRequest request, String tenantId, String connectorId, String state, String nonce,
                         String codeVerifier, String redirectUri, long createdAt, String browserBinding, String purpose) {
    public static final String ACCOUNT = "account";

    public static LoginState of(AuthRequest request, String tenantId, PendingLogin p, String browserBinding) {
        return new LoginState(request, tenantId, p.connectorId(), p.state(), p.nonce(), p.codeVerifier(),
                p.redirectUri().toString(), p.createdAt().toEpochMilli(), browserBinding, null);
    }

    public static LoginState forAccount(String tenantId, PendingLogin p, String browserBinding) {
        return new LoginState(null, tenantId, p.connectorId(), p.state(), p.nonce(), p.codeVerifier(),
                p.redirectUri().toString(), p.createdAt().toEpochMilli(), browserBinding, ACCOUNT);
    }

    public boolean forAccount() {
        return ACCOUNT.equals(purpose);
    }

    public PendingLogin pending() {
        return new PendingLogin(connectorId, state, nonce, codeVerifier, URI.create(redirectUri), Instant.ofEpochMilli(createdAt));
    }

    @Override
    public String toString() {
        return "LoginState[tenant=" + tenantId + ", connector=" + connectorId + ", client=" + (request == null ? purpose : request.clientId()) + "]";
    }
}
