package dev.deputy.broker.support;

import dev.deputy.broker.testing.ConfigFixture;
import dev.deputy.broker.testing.TestBroker;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 14 finding 12: the embedded default's data dir (H2 database, master key, audit journal segments, admin
 * credential) is readable by the broker's user only — directories 0700, files 0600 — whatever the umask, and a data
 * dir left 0755 by an earlier version is tightened on start.
 */
class DataDirPermissionsTest {
    @TempDir
    Path tmp;

    static List<String> tooOpen(Path dir) throws IOException {
        List<String> bad = new ArrayList<>();
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.toList()) {
                Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS);
                String want = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS) ? "rwx------" : "rw-------";
                if (!PosixFilePermissions.toString(perms).equals(want)) {
                    bad.add(dir.relativize(p) + " " + PosixFilePermissions.toString(perms));
                }
            }
        }
        return bad;
    }

    @Test
    void freshDataDirIsPrivate() throws Exception {
        Path config = ConfigFixture.copyOfShipped(Files.createDirectories(tmp.resolve("config")));
        Path data = tmp.resolve("deputy data \u00e9").resolve("data");   // nested, spaced, unicode
        try (TestBroker b = TestBroker.builder(data, config).start()) {
            // an audited request, so the journal has a segment with entries in it
            assertEquals(201, b.post("/t/demo/register", "application/json",
                    "{\"redirect_uris\":[\"http://127.0.0.1/cb\"],\"token_endpoint_auth_method\":\"none\"}").statusCode());
            List<String> names;
            try (Stream<Path> all = Files.walk(data)) {
                names = all.map(p -> data.relativize(p).toString()).toList();
            }
            assertTrue(names.contains("master.key"), names.toString());
            assertTrue(names.stream().anyMatch(n -> n.endsWith(".mv.db")), names.toString());
            assertTrue(names.stream().anyMatch(n -> n.startsWith("audit-journal/") && !n.equals("audit-journal/")), names.toString());
            assertEquals(List.of(), tooOpen(data));
        }
    }

    @Test
    void existingOpenDataDirIsTightened() throws Exception {
        Path config = ConfigFixture.copyOfShipped(Files.createDirectories(tmp.resolve("config")));
        Path data = Files.createDirectories(tmp.resolve("old"));
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-xr-x"));
        try (TestBroker b = TestBroker.builder(data, config).start()) {
            assertEquals(200, b.get("/health").statusCode());
        }
        assertEquals(List.of(), tooOpen(data));
    }
}
