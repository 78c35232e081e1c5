package dev.deputy.broker.storage;

import dev.deputy.broker.support.ClassPathListing;
import org.flywaydb.core.api.migration.JavaMigration;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.TreeSet;

/**
 * The schema migrations this build carries, as one SHA-256 digest: every script under {@code db/migration/} (name
 * and bytes, in name order), every Java migration's version, description and checksum, and the Flyway version.
 * Equal digests mean the same migrations; a start whose digest is recorded in {@code schema_digests} (after a
 * Flyway run that applied exactly this set) has nothing to migrate or validate ({@link Database}).
 */
final class MigrationSet {
    static final String DIR = "db/migration/";

    private MigrationSet() {
    }

    static String digest(ClassLoader loader, List<JavaMigration> javaMigrations) throws IOException {
        TreeSet<String> scripts = new TreeSet<>();
        for (List<String> root : ClassPathListing.files(loader, DIR)) {
            for (String name : root) {
                if (name.endsWith(".sql") && name.indexOf('/') < 0) {
                    scripts.add(name);
                }
            }
        }
        if (scripts.isEmpty()) {
            throw new IOException("no migration scripts under " + DIR);
        }
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        update(sha, "deputy migration set v1");
        update(sha, String.valueOf(org.flywaydb.core.Flyway.class.getPackage().getImplementationVersion()));
        for (String name : scripts) {
            update(sha, name);
            // the first of equal names on the class path: the one Flyway reads too (and refuses duplicates of)
            try (InputStream in = loader.getResourceAsStream(DIR + name)) {
                if (in == null) {
                    throw new IOException("listed but not readable: " + DIR + name);
                }
                byte[] bytes = in.readAllBytes();
                update(sha, Integer.toString(bytes.length));
                sha.update(bytes);
            }
        }
        for (JavaMigration m : javaMigrations) {
            update(sha, m.getClass().getName() + " " + m.getVersion() + " " + m.getDescription() + " " + m.getChecksum());
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static void update(MessageDigest sha, String s) {
        sha.update(s.getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
    }
}
