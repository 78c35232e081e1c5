package dev.deputy.broker.tenant;

import dev.deputy.broker.config.BrokerFile;
import dev.deputy.broker.config.TenantFile;

import java.nio.file.Path;
import java.time.Duration;

/** An isolation boundary: every row, key, token and audit entry carries its tenant id. */
public record Tenant(String id, String displayName, Path configDir, String signingAlg, Duration accessTokenTtl,
                     Duration keyRotationPeriod, Duration keyPrepublish) {

    public static Tenant of(String id, Path dir, TenantFile f, BrokerFile.TenantDefaults d) {
        return new Tenant(id, f.displayName(), dir,
                f.signingAlg() != null ? f.signingAlg() : d.signingAlg(),
                f.accessTokenTtl() != null ? f.accessTokenTtl() : d.accessTokenTtl(),
                f.keyRotationPeriod() != null ? f.keyRotationPeriod() : d.keyRotationPeriod(),
                f.keyPrepublish() != null ? f.keyPrepublish() : d.keyPrepublish());
    }
}
