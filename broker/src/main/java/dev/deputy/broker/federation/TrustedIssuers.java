package dev.deputy.broker.federation;

import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.source.ImmutableJWKSet;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import dev.deputy.broker.config.ConfigException;
import dev.deputy.broker.config.YamlFiles;
import dev.deputy.broker.tenant.Tenant;
import dev.deputy.broker.tenant.Tenants;
import jakarta.inject.Singleton;

import java.net.MalformedURLException;
import java.net.URI;
import java.nio.file.Path;
import java.text.ParseException;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The upstream issuers each tenant trusts for assertion grants, with a JWK source per issuer (cached,
 * refreshed on an unknown kid, bounded in time and size).
 */
@Singleton
public class TrustedIssuers {
    public record Trusted(TrustedIssuer config, JWKSource<SecurityContext> keys) {
    }

    private final Map<String, Map<String, Trusted>> byTenant = new ConcurrentHashMap<>();

    public TrustedIssuers(Tenants tenants, dev.deputy.broker.config.LiveConfig live) {
        for (Tenant t : tenants.all()) {
            byTenant.put(t.id(), load(t.configDir().resolve("trust")));
        }
        // an apply of trust/ reaches every node without a restart
        live.listen(id -> tenants.find(id).ifPresent(t -> byTenant.put(id, load(t.configDir().resolve("trust")))));
    }

    public Optional<Trusted> find(String tenantId, String issuer) {
        return issuer == null ? Optional.empty()
                : Optional.ofNullable(byTenant.getOrDefault(tenantId, Map.of()).get(issuer));
    }

    /** Adds or replaces one (tests, admin). */
    public void put(String tenantId, TrustedIssuer ti) {
        byTenant.computeIfAbsent(tenantId, k -> new ConcurrentHashMap<>()).put(ti.issuer(), new Trusted(ti, source(ti, null)));
    }

    /** Reads and checks a trust/ folder (all-or-nothing, path:line: reason). */
    public static Map<String, Trusted> load(Path dir) {
        Map<String, Trusted> out = new HashMap<>();
        for (Path file : YamlFiles.list(dir)) {
            TrustedIssuer ti = YamlFiles.read(file, TrustedIssuer.class);
            if (out.containsKey(ti.issuer())) {
                throw new ConfigException(file, 0, "issuer " + ti.issuer() + " is trusted twice");
            }
            out.put(ti.issuer(), new Trusted(ti, source(ti, file)));
        }
        return new ConcurrentHashMap<>(out);
    }

    private static JWKSource<SecurityContext> source(TrustedIssuer ti, Path file) {
        try {
            if (ti.jwks() != null) {
                JWKSet set = JWKSet.parse(ti.jwks());
                if (set.getKeys().stream().anyMatch(k -> k.isPrivate())) {
                    throw new IllegalArgumentException("jwks must hold public keys only");
                }
                return new ImmutableJWKSet<>(set);
            }
            return JWKSourceBuilder.create(URI.create(ti.jwksUri()).toURL(),
                            new DefaultResourceRetriever(2_000, 2_000, 256 * 1024))
                    .cache(true).refreshAheadCache(false).rateLimited(true).build();
        } catch (ParseException | MalformedURLException | IllegalArgumentException e) {
            if (file != null) {
                throw new ConfigException(file, 0, "trusted issuer keys: " + e.getMessage());
            }
            throw new IllegalArgumentException(e.getMessage(), e);
        }
    }
}
