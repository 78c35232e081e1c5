package dev.deputy.broker.metadata;

import com.nimbusds.oauth2.sdk.as.AuthorizationServerMetadata;
import com.nimbusds.oauth2.sdk.pkce.CodeChallengeMethod;
import dev.deputy.broker.tenant.Tenant;
import jakarta.inject.Singleton;

import java.net.URI;
import java.util.List;

/** What every tenant has from the start: its issuer, its JWKS and the S256-only PKCE rule. */
@Singleton
class CoreMetadata implements MetadataContributor {
    @Override
    public void contribute(Tenant tenant, String issuer, AuthorizationServerMetadata md) {
        md.setJWKSetURI(URI.create(issuer + "/jwks.json"));
        // OAuth 2.1 §4.1.1 / RFC 7636: S256 only, never plain
        md.setCodeChallengeMethods(List.of(CodeChallengeMethod.S256));
    }
}
