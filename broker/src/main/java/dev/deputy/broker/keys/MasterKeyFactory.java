package dev.deputy.broker.keys;

import dev.deputy.broker.support.PrivateFiles;
import dev.deputy.broker.config.DeputySettings;
import io.micronaut.context.annotation.Factory;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * The master key that seals secrets at rest and authenticates the rows that grant authority ({@link RowSeal}): {@code DEPUTY_MASTER_KEY} (base64 of 32 bytes) or, for the
 * embedded default, {@code <data dir>/master.key}, created once with mode 0600.
 */
@Factory
public class MasterKeyFactory {
    private static final Logger LOG = LoggerFactory.getLogger(MasterKeyFactory.class);

    @Singleton
    SecretBox secretBox(DeputySettings settings) {
        if (settings.mysql().isPresent() && settings.masterKey().isEmpty()) {
            LOG.warn("DEPUTY_MASTER_KEY is not set: using the key file in {}; every node sharing this database needs the same key",
                    settings.dataDir());
        }
        return new SecretBox(masterKey(settings));
    }

    /** Row MACs (sub-keys derived from the same master key; see {@link RowSeal}). */
    @Singleton
    RowSeal rowSeal(DeputySettings settings) {
        return new RowSeal(masterKey(settings));
    }

    static byte[] masterKey(DeputySettings settings) {
        if (settings.masterKey().isPresent()) {
            return decode(settings.masterKey().get(), "DEPUTY_MASTER_KEY");
        }
        return loadOrCreate(settings.dataDir().resolve("master.key"));
    }

    static byte[] loadOrCreate(Path file) {
        try {
            PrivateFiles.directory(file.toAbsolutePath().getParent());
            if (!Files.exists(file)) {
                byte[] key = new byte[32];
                new SecureRandom().nextBytes(key);
                try {
                    Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
                    Files.writeString(file, Base64.getEncoder().encodeToString(key) + "\n");
                    LOG.info("created master key {} (0600)", file);
                    return key;
                } catch (FileAlreadyExistsException raced) {
                    // another process created it first: read theirs
                }
            }
            return decode(Files.readString(file, StandardCharsets.US_ASCII).trim(), file.toString());
        } catch (IOException e) {
            throw new IllegalStateException("cannot read or create master key " + file + ": " + e.getMessage(), e);
        }
    }

    /** What a master key looks like, for the messages below. */
    static final String EXPECTED = "expected base64 of 32 random bytes (44 characters ending in '=',"
            + " e.g. from: head -c 32 /dev/urandom | base64)";

    private static byte[] decode(String b64, String source) {
        byte[] key;
        try {
            key = Base64.getDecoder().decode(b64.trim());
        } catch (IllegalArgumentException e) {
            // never echo the value: it may be a real key with one character wrong
            throw new IllegalStateException(source + " is not valid base64 (" + b64.trim().length() + " characters): "
                    + EXPECTED);
        }
        if (key.length != 32) {
            throw new IllegalStateException(source + " decodes to " + key.length + " bytes, not 32 bytes: " + EXPECTED);
        }
        return key;
    }
}
