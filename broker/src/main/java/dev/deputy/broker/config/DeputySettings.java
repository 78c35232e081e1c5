package dev.deputy.broker.config;

import java.nio.file.Path;
import java.util.Optional;

/**
 * Process-wide settings taken from the environment ({@code DEPUTY_*} variables, mapped in application.yml).
 *
 * @param dataDir    where the embedded database, the master key file and generated TLS material live
 * @param configDir  the operator's policy-as-code tree
 * @param publicUrl  external base URL; empty means {@code http://localhost:<http port>}
 * @param masterKey  base64 AES-256 key for secrets at rest; empty means a key file in the data dir
 * @param mysql      production durable store, or empty for the embedded H2 default
 * @param redis      production ephemeral store, or empty for the in-process default
 */
public record DeputySettings(Path dataDir, Path configDir, Optional<String> publicUrl, Optional<String> masterKey,
                             Optional<MySql> mysql, Optional<Redis> redis) {

    public record MySql(String url, String user, String password) {
        @Override
        public String toString() {
            return "MySql[url=" + url + ", user=" + user + "]";
        }
    }

    public record Redis(String uri, String prefix) {
        @Override
        public String toString() {
            return "Redis[prefix=" + prefix + "]";
        }
    }

    @Override
    public String toString() {
        return "DeputySettings[dataDir=" + dataDir + ", configDir=" + configDir + ", publicUrl=" + publicUrl
                + ", mysql=" + mysql + ", redis=" + redis + "]";
    }
}
