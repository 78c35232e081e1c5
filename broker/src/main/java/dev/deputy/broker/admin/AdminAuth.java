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
                     @io.micronaut.context.annotation.Value("${deputy.admin.bootstrap-secret:}") String bootstrapSecret,
                     @io.micronaut.context.annotation.Value("${deputy.admin.bootstrap-secret-file:}") String bootstrapSecretFile) {
        bootstrapSecret = fromFile(bootstrapSecret, bootstrapSecretFile);
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

    /** The break-glass credential (the bootstrap secret): super admin of every tenant, every use audited. */
    public static final String BREAK_GLASS_ID = "admin";
    private static final AdminCredentialStore.Scope BREAK_GLASS_SCOPE =
            new AdminCredentialStore.Scope(AdminRole.SUPER_ADMIN, java.util.List.of(), true, true);

    /** {@code DEPUTY_ADMIN_BOOTSTRAP_SECRET_FILE}: the secret read from a file (a mounted Kubernetes Secret). */
    private static String fromFile(String secret, String file) {
        if (file == null || file.isBlank()) {
            return secret;
        }
        if (secret != null && !secret.isBlank()) {
            throw new IllegalStateException("set DEPUTY_ADMIN_BOOTSTRAP_SECRET or DEPUTY_ADMIN_BOOTSTRAP_SECRET_FILE, not both");
        }
        try {
            return Files.readString(Path.of(file.strip()), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read DEPUTY_ADMIN_BOOTSTRAP_SECRET_FILE " + file + ": " + e.getClass().getSimpleName());
        }
    }

    /** Whether the break-glass secret comes from the deployment (then it is rotated there, not through the API). */
    public boolean injected() {
        return bootstrapSecret != null;
    }

    @Override
    public void onApplicationEvent(ServerStartupEvent event) {
        bootstrap();
    }

    /** Creates the bootstrap credential once (per database) and writes it where the operator can read it. */
    public synchronized void bootstrap() {
        Path file = credentialsFile();
        if (store.any()) {
            // a credential written before roles existed: the bootstrap one becomes the break-glass super admin
            if (store.adoptScope(BREAK_GLASS_ID, BREAK_GLASS_SCOPE)) {
                LOG.info("admin credential '{}' is now the break-glass credential (super admin)", BREAK_GLASS_ID);
            }
            if (bootstrapSecret != null) {
                store.find(BREAK_GLASS_ID).filter(c -> !MessageDigest.isEqual(c.secretSha256().getBytes(StandardCharsets.US_ASCII),
                        sha256(bootstrapSecret).getBytes(StandardCharsets.US_ASCII))).ifPresent(c -> {
                    // a new secret was deployed: that is the rotation (the old one stops working on every node)
                    if (store.rotate(BREAK_GLASS_ID, sha256(bootstrapSecret), System.currentTimeMillis())) {
                        LOG.info("break-glass admin secret rotated from the deployment");
                        audit.append(AuditEvent.of(SYSTEM_TENANT, dev.deputy.broker.audit.EventTypes.ADMIN_BREAK_GLASS_ROTATED,
                                AuditEvent.Outcome.SUCCESS).client(BREAK_GLASS_ID).detail("source", "deployment").build());
                    }
                });
            }
            if (Files.exists(file)) {
                rewriteUrl(file);
            }
            return;
        }
        if (bootstrapSecret != null) {
            // several nodes, no shared data dir: the operator holds the secret (a Kubernetes Secret); no file is written
            if (store.createIfAbsent(new AdminCredentialStore.AdminCredential(BREAK_GLASS_ID, sha256(bootstrapSecret),
                    System.currentTimeMillis(), false, BREAK_GLASS_SCOPE))) {
                LOG.info("created bootstrap admin credential 'admin' from DEPUTY_ADMIN_BOOTSTRAP_SECRET");
                audit.append(AuditEvent.of(SYSTEM_TENANT, "admin.credential.created", AuditEvent.Outcome.SUCCESS)
                        .client("admin").detail("source", "DEPUTY_ADMIN_BOOTSTRAP_SECRET").build());
            }
            return;
        }
        String secret = random(32);
        if (store.createIfAbsent(new AdminCredentialStore.AdminCredential(BREAK_GLASS_ID, sha256(secret),
                System.currentTimeMillis(), false, BREAK_GLASS_SCOPE))) {
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
        boolean ok = cred.isPresent() && !cred.get().disabled() && cred.get().scope() != null && secret != null
                && MessageDigest.isEqual(cred.get().secretSha256().getBytes(StandardCharsets.US_ASCII),
                sha256(secret).getBytes(StandardCharsets.US_ASCII));
        if (!ok) {
            refused(clientId, "invalid_client", null, meta);
            return Optional.empty();
        }
        String token = "dpa_" + random(32);
        ephemeral.put(key(token), clientId, TOKEN_TTL);
        AdminCredentialStore.Scope scope = cred.get().scope();
        audit.append(AuditEvent.of(SYSTEM_TENANT, "admin.token.issue", AuditEvent.Outcome.SUCCESS)
                .client(clientId).request(meta).detail("role", scope.role().id()).build());
        if (scope.breakGlass()) {
            long now = System.currentTimeMillis();
            store.markUsed(clientId, now);
            audit.append(AuditEvent.of(SYSTEM_TENANT, dev.deputy.broker.audit.EventTypes.ADMIN_BREAK_GLASS_USED,
                    AuditEvent.Outcome.SUCCESS).client(clientId).request(meta).build());
            LOG.warn("the break-glass admin credential was used (audited as admin.break_glass_used)");
        }
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

    /**
     * A bearer token → the admin it stands for, with the credential's current scope (a credential disabled or narrowed
     * since the token was issued takes effect at once).
     */
    public Optional<AdminPrincipal> validate(String token) {
        if (token == null || !token.startsWith("dpa_") || token.length() > 100) {
            return Optional.empty();
        }
        return ephemeral.get(key(token)).flatMap(store::find)
                .filter(c -> !c.disabled() && c.scope() != null)
                .map(c -> new AdminPrincipal(c.clientId(),
                        c.scope().breakGlass() ? AdminPrincipal.Kind.BREAK_GLASS : AdminPrincipal.Kind.CREDENTIAL,
                        java.util.List.of(c.scope().grant()), java.util.Set.of(c.clientId()),
                        c.scope().privileged() || c.scope().breakGlass(), null, null));
    }

    // ---- break-glass and automation credentials (super admin; AdminCredentialsController)

    /** The break-glass credential's state for the console: enabled, created, rotated, last used. */
    public Map<String, Object> breakGlassStatus() {
        Map<String, Object> out = new LinkedHashMap<>();
        var c = store.find(BREAK_GLASS_ID);
        out.put("client_id", BREAK_GLASS_ID);
        out.put("present", c.isPresent());
        out.put("enabled", c.map(x -> !x.disabled()).orElse(false));
        out.put("source", injected() ? "deployment" : "generated");
        out.put("created_at", c.map(x -> (Object) java.time.Instant.ofEpochMilli(x.createdAt()).toString()).orElse(null));
        out.put("rotated_at", c.map(AdminCredentialStore.AdminCredential::rotatedAt)
                .map(x -> (Object) java.time.Instant.ofEpochMilli(x).toString()).orElse(null));
        out.put("last_used_at", c.map(AdminCredentialStore.AdminCredential::lastUsedAt)
                .map(x -> (Object) java.time.Instant.ofEpochMilli(x).toString()).orElse(null));
        return out;
    }

    /** A new break-glass secret, returned once; refused when the deployment injects it (rotate it there). */
    public String rotateBreakGlass(String actor, RequestMeta meta) {
        if (injected()) {
            throw dev.deputy.broker.agent.AgentException.conflict("the break-glass secret is injected at deployment"
                    + " (DEPUTY_ADMIN_BOOTSTRAP_SECRET or _FILE): rotate it there and restart");
        }
        String secret = random(32);
        if (!store.rotate(BREAK_GLASS_ID, sha256(secret), System.currentTimeMillis())) {
            throw dev.deputy.broker.agent.AgentException.notFound("no break-glass credential");
        }
        audit.append(AuditEvent.of(SYSTEM_TENANT, dev.deputy.broker.audit.EventTypes.ADMIN_BREAK_GLASS_ROTATED,
                AuditEvent.Outcome.SUCCESS).client(BREAK_GLASS_ID).request(meta).detail("actor", "admin:" + actor)
                .detail("source", "api").build());
        Path file = credentialsFile();
        if (Files.exists(file)) {
            Map<String, String> doc = new LinkedHashMap<>();
            doc.put("url", publicUrl.base());
            doc.put("client_id", BREAK_GLASS_ID);
            doc.put("client_secret", secret);
            writePrivate(file, doc);
        }
        return secret;
    }

    public void setBreakGlassEnabled(boolean enabled, String actor, RequestMeta meta) {
        if (!store.setDisabled(BREAK_GLASS_ID, !enabled)) {
            throw dev.deputy.broker.agent.AgentException.notFound("no break-glass credential");
        }
        audit.append(AuditEvent.of(SYSTEM_TENANT, enabled ? dev.deputy.broker.audit.EventTypes.ADMIN_BREAK_GLASS_ENABLED
                        : dev.deputy.broker.audit.EventTypes.ADMIN_BREAK_GLASS_DISABLED, AuditEvent.Outcome.SUCCESS)
                .client(BREAK_GLASS_ID).request(meta).detail("actor", "admin:" + actor).build());
    }

    /** A scoped automation credential; its secret is returned once. */
    public String createCredential(String clientId, AdminCredentialStore.Scope scope, String actor, RequestMeta meta) {
        if (clientId == null || !CREDENTIAL_ID.matcher(clientId).matches() || BREAK_GLASS_ID.equals(clientId)) {
            throw dev.deputy.broker.agent.AgentException.invalid("client_id must be 3-64 of a-z 0-9 . _ - (and not 'admin')");
        }
        String secret = random(32);
        if (!store.createIfAbsent(new AdminCredentialStore.AdminCredential(clientId, sha256(secret), System.currentTimeMillis(),
                false, scope))) {
            throw dev.deputy.broker.agent.AgentException.conflict("admin credential " + clientId + " exists");
        }
        audit.append(AuditEvent.of(SYSTEM_TENANT, "admin.credential.created", AuditEvent.Outcome.SUCCESS)
                .client(clientId).request(meta).detail("actor", "admin:" + actor).detail("role", scope.role().id())
                .detail("tenants", scope.tenants()).detail("privileged", scope.privileged()).build());
        return secret;
    }

    public java.util.List<AdminCredentialStore.AdminCredential> credentials() {
        return store.list();
    }

    private static final java.util.regex.Pattern CREDENTIAL_ID = java.util.regex.Pattern.compile("[a-z0-9][a-z0-9._-]{2,63}");

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
