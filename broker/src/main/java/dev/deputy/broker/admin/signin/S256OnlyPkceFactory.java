package dev.deputy.broker.admin.signin;

import io.micronaut.context.annotation.Replaces;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.MutableHttpResponse;
import io.micronaut.security.oauth2.endpoint.authorization.pkce.DefaultPkceFactory;
import io.micronaut.security.oauth2.endpoint.authorization.pkce.Pkce;
import io.micronaut.security.oauth2.endpoint.authorization.pkce.PkceChallenge;
import io.micronaut.security.oauth2.endpoint.authorization.pkce.PkceFactory;
import io.micronaut.security.oauth2.endpoint.authorization.pkce.S256PkceGenerator;
import io.micronaut.security.oauth2.endpoint.authorization.pkce.persistence.PkcePersistence;
import jakarta.inject.Singleton;

import java.util.List;
import java.util.Optional;

/**
 * PKCE with S256 on every console sign-in (RFC 7636 §4.2, RFC 9700 §2.1.1). The library's factory picks the method
 * from the IdP's {@code code_challenge_methods_supported} and sends no PKCE at all when the IdP does not advertise it
 * (Entra ID's discovery document does not), or {@code plain} when that is all it lists; here the challenge is always
 * S256 — an IdP that does not implement PKCE ignores it (RFC 7636 §5).
 */
@Singleton
@Replaces(DefaultPkceFactory.class)
class S256OnlyPkceFactory implements PkceFactory {
    private final S256PkceGenerator s256;
    private final PkcePersistence persistence;

    S256OnlyPkceFactory(S256PkceGenerator s256, PkcePersistence persistence) {
        this.s256 = s256;
        this.persistence = persistence;
    }

    @Override
    public Optional<PkceChallenge> buildChallenge(HttpRequest<?> request, MutableHttpResponse<?> response,
                                                  @Nullable List<String> supportedChallengeMethods) {
        Pkce pkce = s256.generate();
        persistence.persistPkce(request, response, pkce);
        return Optional.of(pkce);
    }
}
