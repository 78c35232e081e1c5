package dev.deputy.broker.admin.signin;

import dev.deputy.broker.admin.AdminPrincipal;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.EventTypes;
import dev.deputy.broker.config.PublicUrl;
import dev.deputy.broker.http.RequestMetaFilter;
import dev.deputy.broker.tenant.Tenants;
import io.micronaut.context.BeanContext;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.uri.UriBuilder;
import io.micronaut.inject.qualifiers.Qualifiers;
import io.micronaut.security.oauth2.client.OpenIdProviderMetadata;
import io.micronaut.security.oauth2.configuration.OauthClientConfiguration;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Optional;

/**
 * Signing out of the console: the session is deleted from the shared store (every node stops accepting the cookie at
 * once), audited, and the browser sent to the IdP's {@code end_session_endpoint} (OpenID Connect RP-Initiated Logout
 * 1.0: {@code id_token_hint}, {@code client_id}, {@code post_logout_redirect_uri}) when it publishes one.
 */
@Singleton
public class ConsoleSignOut {
    private static final Logger LOG = LoggerFactory.getLogger(ConsoleSignOut.class);
    private final ConsoleSessions sessions;
    private final AuditLog audit;
    private final BeanContext beans;
    private final PublicUrl publicUrl;

    ConsoleSignOut(ConsoleSessions sessions, AuditLog audit, BeanContext beans, PublicUrl publicUrl) {
        this.sessions = sessions;
        this.audit = audit;
        this.beans = beans;
        this.publicUrl = publicUrl;
    }

    /** The session cookie of the request, if any. */
    public static String cookie(HttpRequest<?> request) {
        return ConsoleSessionFetcher.cookie(request);
    }

    public static boolean csrfMatches(AdminPrincipal p, String sent) {
        return p.session() != null && sent != null && MessageDigest.isEqual(sent.getBytes(StandardCharsets.UTF_8),
                p.session().csrf().getBytes(StandardCharsets.UTF_8));
    }

    /** Ends the session; returns where to send the browser. */
    public URI signOut(AdminPrincipal p, HttpRequest<?> request) {
        String cookie = cookie(request);
        Optional<String> idToken = sessions.idToken(cookie);
        sessions.delete(cookie);
        audit.append(AuditEvent.of(Tenants.BROKER_CHAIN, EventTypes.ADMIN_CONSOLE_LOGOUT, AuditEvent.Outcome.SUCCESS)
                .subject(p.mfa() == null ? null : p.mfa().subject(), p.mfa() == null ? null : p.mfa().issuer())
                .request(RequestMetaFilter.of(request)).detail("admin", p.name()).build());
        String back = publicUrl.base() + "/console/signed-out";
        try {
            var metadata = beans.findBean(OpenIdProviderMetadata.class, Qualifiers.byName(ConsoleSettings.CLIENT));
            var client = beans.findBean(OauthClientConfiguration.class, Qualifiers.byName(ConsoleSettings.CLIENT));
            String endSession = metadata.map(OpenIdProviderMetadata::getEndSessionEndpoint).orElse(null);
            if (endSession != null && client.isPresent()) {
                UriBuilder b = UriBuilder.of(endSession).queryParam("client_id", client.get().getClientId())
                        .queryParam("post_logout_redirect_uri", back);
                idToken.ifPresent(t -> b.queryParam("id_token_hint", t));
                return b.build();
            }
        } catch (RuntimeException e) {
            LOG.warn("console sign-out: no end_session_endpoint from the admin IdP ({})", e.getClass().getSimpleName());
        }
        return URI.create("/console/signed-out");
    }
}
