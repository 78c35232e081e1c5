package dev.deputy.broker;

import io.micronaut.core.io.service.MicronautMetaServiceLoaderUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The start-up index of Micronaut's services ({@link MicronautServiceIndex}) is what Micronaut's own walk of
 * {@code META-INF/micronaut/} finds, in the same order, and Micronaut takes it from the cache it is put in.
 */
class MicronautServiceIndexTest {
    @TempDir
    Path tmp;

    @Test
    void theIndexOfAJarIsMicronautsOwnScanInItsOrder() throws Exception {
        Path jar = tmp.resolve("services.jar");
        try (OutputStream f = Files.newOutputStream(jar); JarOutputStream out = new JarOutputStream(f)) {
            for (String name : List.of("META-INF/", "META-INF/micronaut/", "META-INF/micronaut/svc.A/",
                    "META-INF/micronaut/svc.A/a.One", "META-INF/micronaut/svc.B/b.One", "dev/x/Some.class",
                    "META-INF/micronaut/svc.A/a.Two", "META-INF/micronaut/svc.A/a.Dir/",
                    "META-INF/micronaut/svc.B/b.Two", "META-INF/micronaut/svc.C/c.Implicit/deeper/file",
                    "META-INF/micronaut/svc.A/a.Three")) {
                out.putNextEntry(new JarEntry(name));
                out.closeEntry();
            }
        }
        assertSameAsMicronaut(jar);
    }

    @Test
    void theIndexOfARealMicronautJarIsMicronautsOwnScan() throws Exception {
        // a jar of the build with many bean definitions (the shaded broker jar is scanned the same way)
        Path jar = Path.of(io.micronaut.http.server.netty.NettyHttpServer.class.getProtectionDomain().getCodeSource()
                .getLocation().toURI());
        assertTrue(Files.isRegularFile(jar), jar.toString());
        Map<String, Set<String>> index = assertSameAsMicronaut(jar);
        assertTrue(index.getOrDefault("io.micronaut.inject.BeanDefinitionReference", Set.of()).size() > 20, index.toString());
    }

    @Test
    void micronautTakesTheInstalledIndexForItsClassLoader() throws Exception {
        try (URLClassLoader loader = new URLClassLoader(new URL[0], null)) {
            Map<String, Set<String>> index = Map.of("svc.Installed", Set.of("x.Impl"));
            assertTrue(MicronautServiceIndex.install(loader, index),
                    "Micronaut's cache of its META-INF/micronaut walk is not where MicronautServiceIndex expects it");
            // the loader sees no META-INF/micronaut at all: only the installed index can answer
            assertSame(index.get("svc.Installed"),
                    MicronautMetaServiceLoaderUtils.findMicronautMetaServiceEntries(loader, "svc.Installed"));
            assertEquals(Set.of(), MicronautMetaServiceLoaderUtils.findMicronautMetaServiceEntries(loader, "svc.Other"));
        }
    }

    @Test
    void onlyWhenTheClassPathIsOneJar() {
        // the tests run from target/classes: Micronaut keeps scanning by itself
        assertFalse(MicronautServiceIndex.installForSingleJar());
    }

    private static Map<String, Set<String>> assertSameAsMicronaut(Path jar) throws IOException {
        Map<String, Set<String>> mine = MicronautServiceIndex.read(jar);
        Map<String, Set<String>> theirs;
        try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null)) {
            theirs = MicronautMetaServiceLoaderUtils.findAllMicronautMetaServices(loader);
        }
        assertFalse(theirs.isEmpty());
        assertEquals(ordered(theirs), ordered(mine));
        return mine;
    }

    /** Service to implementations as ordered lists, services without one left out (Micronaut answers those with none too). */
    private static List<Map.Entry<String, List<String>>> ordered(Map<String, Set<String>> m) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        m.forEach((k, v) -> {
            if (!v.isEmpty()) {
                out.put(k, new ArrayList<>(v));
            }
        });
        return new ArrayList<>(out.entrySet());
    }
}
