package dev.deputy.broker.support;

import io.micronaut.core.io.scan.DefaultClassPathResourceLoader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JarEntryResourceLoaderTest {
    /** Same answer as Micronaut's loader for every kind of path, from a jar and from a directory. */
    @Test
    void answersAsMicronautsLoaderDoes(@TempDir Path tmp) throws IOException {
        Path jar = tmp.resolve("app.jar");
        try (var out = new JarOutputStream(Files.newOutputStream(jar))) {
            put(out, "application.yml", "micronaut:\n  application:\n    name: deputy\n");
            out.putNextEntry(new JarEntry("static/"));
            out.closeEntry();
            put(out, "static/deputy.css", "body{}");
            put(out, "ünï code/with space.yml", "a: ü\n");
            out.putNextEntry(new JarEntry("empty.yml"));
            out.closeEntry();
        }
        Path dir = tmp.resolve("dir");
        Files.createDirectories(dir.resolve("conf"));
        Files.writeString(dir.resolve("conf/other.yml"), "b: 2\n");
        List<String> paths = List.of("application.yml", "static", "static/", "static/deputy.css", "missing.yml",
                "../application.yml", "static/../application.yml", "/application.yml", "classpath:application.yml",
                "ünï code/with space.yml", "APPLICATION.YML", "empty.yml", "conf", "conf/other.yml", "conf/",
                "static\\deputy.css", "application-test.yml");
        try (var cl = new URLClassLoader(new URL[]{jar.toUri().toURL(), dir.toUri().toURL()}, null)) {
            var ours = new JarEntryResourceLoader(cl);
            var micronauts = new DefaultClassPathResourceLoader(cl);
            int found = 0;
            for (String p : paths) {
                Optional<String> expected = read(micronauts.getResourceAsStream(p));
                assertEquals(expected, read(ours.getResourceAsStream(p)), p);
                found += expected.isPresent() ? 1 : 0;
            }
            // not vacuous: files from the jar and from the directory were read, directories were not
            assertTrue(found >= 5, "found " + found);
            assertEquals(Optional.of("a: ü\n"), read(ours.getResourceAsStream("ünï code/with space.yml")));
            assertEquals(Optional.empty(), read(ours.getResourceAsStream("static")));
        }
    }

    private static void put(JarOutputStream out, String name, String content) throws IOException {
        out.putNextEntry(new JarEntry(name));
        out.write(content.getBytes(StandardCharsets.UTF_8));
        out.closeEntry();
    }

    private static Optional<String> read(Optional<InputStream> in) {
        return in.map(s -> {
            try (s) {
                return new String(s.readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }
}
