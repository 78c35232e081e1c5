package dev.deputy.broker.tenant;

import dev.deputy.broker.config.BrokerFile;
import dev.deputy.broker.config.TenantFile;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;

/** An isolation boundary: every row, key, token and audit entry carries its tenant id. */
public record Tenant(String id, String displayName, Path configDir, String signingAlg, Duration accessTokenTtl,
                     Duration keyRotationPeriod, Duration keyPrepublish, Set<String> introspectionClients,
                     boolean acceptUnverifiedCnf) {

    /**
     * @param introspectionClients the clients allowed to introspect (tenant.yml {@code introspection.allowed_clients});
     *                             null: every confidential client of the tenant
     * @param acceptUnverifiedCnf  tenant.yml {@code tool_reports.accept_unverified_cnf}: record a tool-call report for a
     *                             certificate-bound token without the holder's certificate (marked
     *                             {@code cnf_verified: false}) instead of refusing it
     */
    public Tenant {
        introspectionClients = introspectionClients == null ? null : Set.copyOf(introspectionClients);
    }

    public Tenant(String id, String displayName, Path configDir, String signingAlg, Duration accessTokenTtl,
                  Duration keyRotationPeriod, Duration keyPrepublish, Set<String> introspectionClients) {
        this(id, displayName, configDir, signingAlg, accessTokenTtl, keyRotationPeriod, keyPrepublish,
                introspectionClients, false);
    }

    public Tenant(String id, String displayName, Path configDir, String signingAlg, Duration accessTokenTtl,
                  Duration keyRotationPeriod, Duration keyPrepublish) {
        this(id, displayName, configDir, signingAlg, accessTokenTtl, keyRotationPeriod, keyPrepublish, null);
    }

    public static Tenant of(String id, Path dir, TenantFile f, BrokerFile.TenantDefaults d) {
        return new Tenant(id, f.displayName(), dir,
                f.signingAlg() != null ? f.signingAlg() : d.signingAlg(),
                f.accessTokenTtl() != null ? f.accessTokenTtl() : d.accessTokenTtl(),
                f.keyRotationPeriod() != null ? f.keyRotationPeriod() : d.keyRotationPeriod(),
                f.keyPrepublish() != null ? f.keyPrepublish() : d.keyPrepublish(),
                f.introspection() == null || f.introspection().allowedClients() == null ? null
                        : Set.copyOf(f.introspection().allowedClients()),
                f.toolReports() != null && Boolean.TRUE.equals(f.toolReports().acceptUnverifiedCnf()));
    }
}
