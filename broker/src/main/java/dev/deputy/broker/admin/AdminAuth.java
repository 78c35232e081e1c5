package dev.deputy.broker.admin;

import dev.deputy.broker.support.PrivateFiles;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.deputy.broker.audit.AuditEvent;
import dev.deputy.broker.audit.AuditLog;
import dev.deputy.broker.audit.RequestMeta;
import dev.deputy.broker.config.DeputySettings;
import dev.deputy.broker.config.PublicUrl;
import dev.deputy.broker.ephemeral.EphemeralStore;
import io.micronaut.context.event.ApplicationEventListener;
import io.micronaut.runtime.server.event.ServerStartupEvent;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Admin API authentication. On first start the broker creates the bootstrap admin credential and writes it
 * to {@code <data dir>/admin-credentials.json} (mode 0600); only its SHA-256 is stored. Admins exchange it
 * at {@code POST /admin/token} for a short-lived opaque bearer token kept (hashed) in the shared ephemeral
 * store, so every node accepts it and it can be revoked.
 */
@Singleton
public class AdminAuth implements ApplicationEventListener<ServerStartupEvent> {
    public static final String SYSTEM_TENANT = dev.deputy.broker.tenant.Tenants.BROKER_CHAIN;
    public static final Duration TOKEN_TTL = Duration.ofMinutes(15);
    private static final Logger LOG = LoggerFactory.getLogger(AdminAuth.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final ObjectMapper JSON = new ObjectMapper();

    private final AdminCredentialStore store;
    private final EphemeralStore ephemeral;
    private final DeputySettings settings;
    private final PublicUrl publicUrl;
    private final AuditLog audit;

    /** {@code DEPUTY_ADMIN_BOOTSTRAP_SECRET}: the bootstrap credential's secret from the environment (a Kubernetes Secret). */
    private final String bootstrapSecret;

    public AdminAuth(AdminCredentialStore store, EphemeralStore ephemeral, DeputySettings settings, PublicUrl publicUrl,
                     AuditLog audit,
                     @io.micronaut.context.annotation.Value("${deputy.admin.bootstrap-secret:}") String bootstrapSecret) {
        if (bootstrapSecret != null && !bootstrapSecret.isBlank() && bootstrapSecret.strip().length() < 32) {
            throw new IllegalStateException("DEPUTY_ADMIN_BOOTSTRAP_SECRET must be at least 32 characters"
                    + " (e.g. from: head -c 32 /dev/urandom | base64)");
        }
        this.bootstrapSecret = bootstrapSecret == null || bootstrapSecret.isBlank() ? null : bootstrapSecret.strip();
        this.store = store;
        this.ephemeral = ephemeral;
        this.settings = settings;
        this.publicUrl = publicUrl;
        this.audit = audit;
    }

    public record Admin(String id) {
    }

    @Override
    public void onApplicationEvent(ServerStartupEvent event) {
        bootstrap();
    }

    /** Creates the bootstrap credential once (per database) and writes it where the operator can read it. */
    public synchronized void bootstrap() {
        Path file = credentialsFile();
        if (store.any()) {
            if (Files.exists(file)) {
                rewriteUrl(file);
            }
            return;
        }
        if (bootstrapSecret != null) {
            // several nodes, no shared data dir: the operator holds the secret (a Kubernetes Secret); no file is written
            if (store.createIfAbsent(new AdminCredentialStore.AdminCredential("admin", sha256(bootstrapSecret),
                    System.currentTimeMillis(), false))) {
                LOG.info("created bootstrap admin credential 'admin' from DEPUTY_ADMIN_BOOTSTRAP_SECRET");
                audit.append(AuditEvent.of(SYSTEM_TENANT, "admin.credential.created", AuditEvent.Outcome.SUCCESS)
                        .client("admin").detail("source", "DEPUTY_ADMIN_BOOTSTRAP_SECRET").build());
            }
            return;
        }
        String secret = random(32);
        if (store.createIfAbsent(new AdminCredentialStore.AdminCredential("admin", sha256(secret),
                System.currentTimeMillis(), false))) {
            Map<String, String> doc = new LinkedHashMap<>();
            doc.put("url", publicUrl.base());
            doc.put("client_id", "admin");
            doc.put("client_secret", secret);
            writePrivate(file, doc);
            LOG.info("created bootstrap admin credential in {} (0600)", file);
            audit.append(AuditEvent.of(SYSTEM_TENANT, "admin.credential.created", AuditEvent.Outcome.SUCCESS)
                    .client("admin").detail("file", file.toString()).build());
        }
    }

    public Path credentialsFile() {
        return settings.dataDir().resolve("admin-credentials.json");
    }

    /** Client credentials → bearer token, or empty when they are wrong or disabled (audited either way). */
    public Optional<String> issueToken(String clientId, String secret, RequestMeta meta) {
        Optional<AdminCredentialStore.AdminCredential> cred = clientId == null ? Optional.empty() : store.find(clientId);
        boolean ok = cred.isPresent() && !cred.get().disabled() && secret != null
                && MessageDigest.isEqual(cred.get().secretSha256().getBytes(StandardCharsets.US_ASCII),
                sha256(secret).getBytes(StandardCharsets.US_ASCII));
        if (!ok) {
            refused(clientId, "invalid_client", null, meta);
            return Optional.empty();
        }
        String token = "dpa_" + random(32);
        ephemeral.put(key(token), clientId, TOKEN_TTL);
        audit.append(AuditEvent.of(SYSTEM_TENANT, "admin.token.issue", AuditEvent.Outcome.SUCCESS)
                .client(clientId).request(meta).build());
        return Optional.of(token);
    }

    /** The one audit entry of a refused {@code POST /admin/token} ({@code reason} only when the request was malformed). */
    public void refused(String clientId, String error, String reason, RequestMeta meta) {
        AuditEvent.Builder b = AuditEvent.of(SYSTEM_TENANT, "admin.token.issue", AuditEvent.Outcome.FAILURE)
                .client(clientId).request(meta).detail("error", error);
        if (reason != null) {
            b.detail("reason", reason);
        }
        audit.append(b.build());
    }

    public Optional<Admin> validate(String token) {
        if (token == null || !token.startsWith("dpa_") || token.length() > 100) {
            return Optional.empty();
        }
        return ephemeral.get(key(token)).map(Admin::new);
    }

    public void revoke(String token) {
        ephemeral.delete(key(token));
    }

    private static String key(String token) {
        return "admin-token:" + sha256(token);
    }

    private void rewriteUrl(Path file) {
        try {
            @SuppressWarnings("unchecked")
            Map<String, String> doc = JSON.readValue(file.toFile(), LinkedHashMap.class);
            if (!publicUrl.base().equals(doc.get("url"))) {
                doc.put("url", publicUrl.base());
                writePrivate(file, doc);
            }
        } catch (IOException e) {
            LOG.warn("cannot update {}: {}", file, e.getMessage());
        }
    }

    private static void writePrivate(Path file, Map<String, String> doc) {
        try {
            PrivateFiles.directory(file.toAbsolutePath().getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.deleteIfExists(tmp);
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(tmp, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(doc) + "\n");
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    static String random(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
